#include "tests/fake_upstream/fake_oauth.hpp"

#include <algorithm>
#include <chrono>

#include "tests/fake_upstream/fake_encoding.hpp"

namespace cxp::test {

using json = nlohmann::json;

namespace {

constexpr std::string_view client_id = "app_EMoamEEZ73f0CkXaXp7hrann";
constexpr int64_t code_lifetime_s = 600;
constexpr int64_t token_lifetime_s = 10 * 24 * 3600;
/// A poll this much earlier than the interval counts as too fast (scheduling jitter aside).
constexpr double too_fast_slack_s = 0.5;

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::multimap<std::string, std::string> parse_pairs(const std::string& text) {
  std::multimap<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('&', start);
    end = end == std::string::npos ? text.size() : end;
    auto pair = text.substr(start, end - start);
    auto eq = pair.find('=');
    if (eq != std::string::npos) {
      out.emplace(url_decode(pair.substr(0, eq)), url_decode(pair.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

std::string first(const std::multimap<std::string, std::string>& pairs, const std::string& key) {
  auto it = pairs.find(key);
  return it == pairs.end() ? std::string{} : it->second;
}

oauth_reply json_answer(int status, const json& body) {
  return {status, {{"content-type", "application/json"}}, body.dump(), 0};
}

oauth_reply oauth_error(int status, const std::string& code, const std::string& description) {
  return json_answer(status, {{"error", code}, {"error_description", description}});
}

oauth_reply openai_error(int status, const std::string& code, const std::string& message) {
  return json_answer(status, {{"error",
                               {{"message", message},
                                {"type", "invalid_request_error"},
                                {"param", nullptr},
                                {"code", code}}}});
}

oauth_reply redirect(const std::string& location) {
  return {302, {{"location", location}}, "", 0};
}

std::string jwt(const json& payload) {
  return base64url(json{{"alg", "none"}, {"typ", "JWT"}}.dump()) + "." + base64url(payload.dump())
         + ".fake";
}

json auth_claim(const oauth_identity& who) {
  json claim{{"chatgpt_user_id", who.user_id},
             {"chatgpt_plan_type", who.plan_type},
             {"organizations",
              {{{"id", "org-" + who.account_id},
                {"is_default", true},
                {"role", "owner"},
                {"title", "Personal"}}}}};
  if (!who.omit_account_id) {
    claim["chatgpt_account_id"] = who.account_id;
  }
  return claim;
}

const std::vector<std::string> known_scopes{
  "openid", "profile", "email", "offline_access", "api.connectors.read", "api.connectors.invoke"};
const std::vector<std::string> known_originators{"codex_cli_rs", "codex_vscode", "codex_sdk_ts",
                                                 "codex-tui"};

bool is_browser_redirect(const std::string& uri) {
  return uri == "http://localhost:1455/auth/callback"
         || uri == "http://localhost:1457/auth/callback";
}

} // namespace

void from_json(const json& j, oauth_identity& who) {
  auto get = [&j](const char* key, auto& field) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) {
      it->get_to(field);
    }
  };
  get("account_id", who.account_id);
  get("user_id", who.user_id);
  get("email", who.email);
  get("plan_type", who.plan_type);
  get("omit_account_id", who.omit_account_id);
}

void from_json(const json& j, oauth_knobs& k) {
  auto get = [&j](const char* key, auto& field) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) {
      it->get_to(field);
    }
  };
  get("identity", k.identity);
  get("authorize_entitlement_error", k.authorize_entitlement_error);
  get("token_failure", k.token_failure);
  get("omit_refresh_token", k.omit_refresh_token);
  get("omit_id_token", k.omit_id_token);
  get("slow_ms", k.slow_ms);
  get("usercode_failure", k.usercode_failure);
  get("interval_style", k.interval_style);
  get("interval_s", k.interval_s);
  get("device_expires_in_s", k.device_expires_in_s);
  get("device_script", k.device_script);
}

oauth_state::oauth_state() {
  reset();
}

void oauth_state::reset() {
  knobs = {};
  secret_tag = "fxs" + to_hex(random_raw(5));
  clock_offset_s = 0;
  codes.clear();
  devices.clear();
  minted.clear();
  exchanges = 0;
}

namespace {

double fake_now(const oauth_state& st) {
  return wall_seconds() + static_cast<double>(st.clock_offset_s);
}

std::string mint(oauth_state& st, const std::string& prefix) {
  auto value = prefix + st.secret_tag + to_hex(random_raw(8)) + std::to_string(++st.sequence);
  st.minted.push_back(value);
  return value;
}

oauth_reply handle_authorize(oauth_state& st, const std::multimap<std::string, std::string>& q) {
  const auto redirect_uri = first(q, "redirect_uri");
  if (first(q, "response_type") != "code" || first(q, "client_id") != client_id
      || !is_browser_redirect(redirect_uri) || first(q, "code_challenge_method") != "S256"
      || first(q, "code_challenge").empty()) {
    return oauth_error(400, "authorize_hydra_invalid_request", "The request is malformed.");
  }
  const auto originator = first(q, "originator");
  if (!originator.empty()
      && std::find(known_originators.begin(), known_originators.end(), originator)
           == known_originators.end()) {
    return oauth_error(400, "missing_required_parameter", "missing required parameter");
  }
  const auto state = first(q, "state");
  const auto scope = first(q, "scope");
  size_t start = 0;
  while (start < scope.size()) {
    auto end = scope.find(' ', start);
    end = end == std::string::npos ? scope.size() : end;
    auto one = scope.substr(start, end - start);
    if (!one.empty()
        && std::find(known_scopes.begin(), known_scopes.end(), one) == known_scopes.end()) {
      return redirect(redirect_uri + "?error=invalid_scope&error_description="
                      + url_encode("not allowed to request scope '" + one + "'")
                      + "&state=" + url_encode(state));
    }
    start = end + 1;
  }
  if (st.knobs.authorize_entitlement_error) {
    return redirect(redirect_uri + "?error=access_denied&error_description="
                    + url_encode("missing_codex_entitlement") + "&state=" + url_encode(state));
  }
  const auto code = mint(st, "ac_") + ".x";
  st.codes[code] = {first(q, "code_challenge"), redirect_uri, st.knobs.identity,
                    static_cast<int64_t>(fake_now(st)), false};
  return redirect(redirect_uri + "?code=" + url_encode(code) + "&scope=" + url_encode(scope)
                  + "&state=" + url_encode(state));
}

oauth_reply handle_code_exchange(oauth_state& st, const std::multimap<std::string, std::string>& f,
                                 const std::function<void(const oauth_tokens_issued&)>& issue) {
  ++st.exchanges;
  const auto& k = st.knobs;
  if (k.token_failure == "status_500") {
    return json_answer(500, {{"error", "server_error"}});
  }
  if (k.token_failure == "non_json_502") {
    return {502, {{"content-type", "text/html"}}, "<html>502 Bad Gateway</html>", 0};
  }
  if (k.token_failure == "slow") {
    auto answer = oauth_error(400, "invalid_grant", "too late");
    answer.delay_ms = k.slow_ms;
    return answer;
  }
  if (k.token_failure == "invalid_grant") {
    return oauth_error(400, "invalid_grant", "Invalid authorization code.");
  }
  if (k.token_failure == "token_exchange_user_error") {
    return openai_error(400, "token_exchange_user_error", "Invalid redirect_uri.");
  }
  const auto code = first(f, "code");
  auto it = st.codes.find(code);
  if (it == st.codes.end() || it->second.used
      || fake_now(st) - static_cast<double>(it->second.issued_at) > code_lifetime_s) {
    return oauth_error(400, "invalid_grant", "Invalid or expired authorization code.");
  }
  it->second.used = true;
  if (first(f, "client_id") != client_id) {
    return oauth_error(400, "invalid_client", "Unknown client.");
  }
  if (first(f, "redirect_uri") != it->second.redirect_uri) {
    return openai_error(400, "token_exchange_user_error", "redirect_uri mismatch.");
  }
  const auto verifier = first(f, "code_verifier");
  if (base64url(sha256_raw(verifier)) != it->second.challenge) {
    return oauth_error(400, "invalid_grant", "PKCE verification failed.");
  }
  const auto& who = it->second.identity;
  const auto exp = static_cast<int64_t>(wall_seconds()) + token_lifetime_s;
  oauth_tokens_issued tokens;
  tokens.identity = who;
  json access_claims{
    {"exp", exp}, {"https://api.openai.com/auth", auth_claim(who)}, {"tag", mint(st, "at-claim-")}};
  tokens.access_token = jwt(access_claims);
  st.minted.push_back(tokens.access_token);
  tokens.refresh_token = mint(st, "rt_");
  json id_claims{{"email", who.email},
                 {"exp", exp},
                 {"iat", exp - token_lifetime_s},
                 {"sub", "auth0|" + who.user_id},
                 {"https://api.openai.com/auth", auth_claim(who)},
                 {"https://api.openai.com/profile", {{"email", who.email}}}};
  const auto id_token = jwt(id_claims);
  st.minted.push_back(id_token);
  json body{{"access_token", tokens.access_token},
            {"expires_in", token_lifetime_s},
            {"token_type", "Bearer"},
            {"scope", "openid profile email offline_access"}};
  if (!k.omit_id_token) {
    body["id_token"] = id_token;
  }
  if (!k.omit_refresh_token) {
    body["refresh_token"] = tokens.refresh_token;
  }
  if (!who.omit_account_id && !k.omit_id_token && !k.omit_refresh_token) {
    issue(tokens);
  }
  return json_answer(200, body);
}

oauth_reply handle_usercode(oauth_state& st, const std::string& body) {
  const auto& k = st.knobs;
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || parsed.value("client_id", std::string{}) != client_id) {
    return openai_error(400, "invalid_client", "unknown client");
  }
  if (k.usercode_failure == "disabled_404") {
    return json_answer(404, {{"detail", "Not Found"}});
  }
  if (k.usercode_failure == "status_500") {
    return json_answer(500, {{"error", "server_error"}});
  }
  if (k.usercode_failure == "malformed") {
    return {200, {{"content-type", "application/json"}}, "{\"device_auth_id\": ", 0};
  }
  oauth_state::device device;
  device.device_auth_id = mint(st, "deviceauth_");
  // Recognisable but short like the real ones: letters from the tag's hex digits.
  auto letters = to_hex(random_raw(4));
  std::transform(letters.begin(), letters.end(), letters.begin(),
                 [](char c) { return static_cast<char>('G' + (c % 16)); });
  device.user_code = letters.substr(0, 4) + "-" + letters.substr(4, 4) + "Q";
  st.minted.push_back(device.user_code);
  device.interval_s = k.interval_s;
  device.expires_at = static_cast<int64_t>(fake_now(st)) + k.device_expires_in_s;
  device.script = {k.device_script.begin(), k.device_script.end()};
  char expires[40];
  const std::time_t t = device.expires_at - st.clock_offset_s;
  std::strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&t));
  json answer{{"device_auth_id", device.device_auth_id}, {"expires_at", expires}};
  answer[k.interval_style == "usercode_key" ? "usercode" : "user_code"] = device.user_code;
  if (k.interval_style == "number") {
    answer["interval"] = device.interval_s;
  } else {
    answer["interval"] = std::to_string(device.interval_s);
  }
  if (k.usercode_failure == "missing_fields") {
    answer.erase("device_auth_id");
  }
  st.devices[device.device_auth_id] = std::move(device);
  return json_answer(200, answer);
}

oauth_reply pending() {
  return openai_error(403, "deviceauth_authorization_pending",
                      "Device authorization is pending. Please try again.");
}

oauth_reply handle_device_poll(oauth_state& st, const std::string& body, const std::string& host) {
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    return openai_error(400, "invalid_request", "bad body");
  }
  auto it = st.devices.find(parsed.value("device_auth_id", std::string{}));
  if (it == st.devices.end() || parsed.value("user_code", std::string{}) != it->second.user_code) {
    return json_answer(404, {{"detail", "Not Found"}});
  }
  auto& d = it->second;
  const auto now = fake_now(st);
  if (!d.polls.empty() && now - d.polls.back() < d.interval_s - too_fast_slack_s) {
    ++d.too_fast;
  }
  d.polls.push_back(now);
  if (now > static_cast<double>(d.expires_at)) {
    return openai_error(400, "deviceauth_expired", "The device code has expired.");
  }
  if (!d.script.empty()) {
    const auto step = d.script.front();
    d.script.pop_front();
    if (step == "not_found") {
      return json_answer(404, {{"detail", "Not Found"}});
    }
    if (step == "slow_down") {
      d.interval_s += 5;
      return openai_error(400, "slow_down", "Polling too fast.");
    }
    if (step == "expired") {
      return openai_error(400, "expired_token", "The device code has expired.");
    }
    if (step == "denied") {
      return oauth_error(403, "access_denied", "The user denied the request.");
    }
    if (step == "authorization_pending") {
      return oauth_error(400, "authorization_pending", "pending");
    }
    return pending();
  }
  if (d.denied) {
    return oauth_error(403, "access_denied", "The user denied the request.");
  }
  if (!d.approved) {
    return pending();
  }
  if (d.code.empty()) {
    const auto verifier = mint(st, "dv_");
    d.code = mint(st, "ac_") + ".d";
    st.codes[d.code] = {base64url(sha256_raw(verifier)), "http://" + host + "/deviceauth/callback",
                        *d.approved, static_cast<int64_t>(now), false};
    // Kept beside the code so a re-poll answers the same verifier.
    st.minted.push_back(verifier);
    d.script.clear();
    return json_answer(200, {{"authorization_code", d.code},
                             {"code_challenge", st.codes[d.code].challenge},
                             {"code_verifier", verifier}});
  }
  return oauth_error(400, "invalid_grant", "already used");
}

oauth_reply approve(oauth_state& st, const std::string& user_code, bool deny,
                    std::optional<oauth_identity> who) {
  for (auto& [id, d] : st.devices) {
    if (d.user_code == user_code) {
      if (deny) {
        d.denied = true;
      } else {
        d.approved = who.value_or(st.knobs.identity);
      }
      return json_answer(200, {{"ok", true}});
    }
  }
  return json_answer(404, {{"error", "unknown user code"}});
}

constexpr std::string_view device_page = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>Fake OpenAI device sign-in</title></head>
<body><h1>Enter the code shown on your device</h1>
<form method="post" action="/codex/device">
<label>Code <input name="user_code" id="user_code" autocomplete="off"></label>
<label>Email <input name="email" id="email"></label>
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>
)";

} // namespace

bool is_oauth_request(const std::string& method, const std::string& path,
                      const std::string& content_type, const std::string& body) {
  if (path.rfind("/__control/oauth", 0) == 0 || path == "/oauth/authorize"
      || path.rfind("/api/accounts/deviceauth/", 0) == 0 || path == "/codex/device") {
    return true;
  }
  if (method != "POST" || path != "/oauth/token") {
    return false;
  }
  if (content_type.find("x-www-form-urlencoded") != std::string::npos) {
    return first(parse_pairs(body), "grant_type") == "authorization_code";
  }
  auto parsed = json::parse(body, nullptr, false);
  return !parsed.is_discarded() && parsed.is_object()
         && parsed.value("grant_type", std::string{}) == "authorization_code";
}

oauth_reply handle_oauth(oauth_state& st, const std::string& method, const std::string& target,
                         const std::string& content_type, const std::string& body,
                         const std::string& host,
                         const std::function<void(const oauth_tokens_issued&)>& issue) {
  const auto question = target.find('?');
  const auto path = target.substr(0, question);
  const auto query = question == std::string::npos ? std::string{} : target.substr(question + 1);
  if (path == "/oauth/authorize" && method == "GET") {
    return handle_authorize(st, parse_pairs(query));
  }
  if (path == "/oauth/token" && method == "POST") {
    std::multimap<std::string, std::string> form;
    if (content_type.find("x-www-form-urlencoded") != std::string::npos) {
      form = parse_pairs(body);
    } else if (auto parsed = json::parse(body, nullptr, false); parsed.is_object()) {
      for (const auto& [key, value] : parsed.items()) {
        form.emplace(key, value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    return handle_code_exchange(st, form, issue);
  }
  if (path == "/api/accounts/deviceauth/usercode" && method == "POST") {
    return handle_usercode(st, body);
  }
  if (path == "/api/accounts/deviceauth/token" && method == "POST") {
    return handle_device_poll(st, body, host);
  }
  if (path == "/codex/device" && method == "GET") {
    return {200, {{"content-type", "text/html; charset=utf-8"}}, std::string{device_page}, 0};
  }
  if (path == "/codex/device" && method == "POST") {
    auto form = parse_pairs(body);
    std::optional<oauth_identity> who;
    if (auto email = first(form, "email"); !email.empty()) {
      who = st.knobs.identity;
      who->email = email;
    }
    auto answer = approve(st, first(form, "user_code"), first(form, "decision") == "deny", who);
    const auto done = answer.status == 200;
    return {done ? 200 : 404,
            {{"content-type", "text/html; charset=utf-8"}},
            done ? "<p id=\"done\">Device approved. You may close this page.</p>"
                 : "<p id=\"done\">Unknown code.</p>",
            0};
  }
  // Test controls.
  auto parsed = json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (parsed.is_discarded()) {
    return json_answer(400, {{"error", "invalid JSON"}});
  }
  try {
    if (path == "/__control/oauth/reset" && method == "POST") {
      st.reset();
      return json_answer(200, {{"secret_tag", st.secret_tag}});
    }
    if (path == "/__control/oauth/config" && method == "POST") {
      from_json(parsed, st.knobs);
      return json_answer(200, {{"secret_tag", st.secret_tag}});
    }
    if (path == "/__control/oauth/approve" && method == "POST") {
      std::optional<oauth_identity> who;
      if (parsed.contains("identity")) {
        who = st.knobs.identity;
        from_json(parsed["identity"], *who);
      }
      return approve(st, parsed.value("user_code", std::string{}), false, who);
    }
    if (path == "/__control/oauth/deny" && method == "POST") {
      return approve(st, parsed.value("user_code", std::string{}), true, std::nullopt);
    }
    if (path == "/__control/oauth/clock" && method == "POST") {
      st.clock_offset_s += parsed.value("advance_s", int64_t{0});
      return json_answer(200, {{"clock_offset_s", st.clock_offset_s}});
    }
    if (path == "/__control/oauth/state" && method == "GET") {
      json devices = json::array();
      for (const auto& [id, d] : st.devices) {
        devices.push_back({{"user_code", d.user_code},
                           {"interval_s", d.interval_s},
                           {"polls", d.polls},
                           {"too_fast", d.too_fast},
                           {"approved", d.approved.has_value()},
                           {"denied", d.denied}});
      }
      return json_answer(200, {{"secret_tag", st.secret_tag},
                               {"secrets", st.minted},
                               {"exchanges", st.exchanges},
                               {"devices", devices}});
    }
  } catch (const json::exception& e) {
    return json_answer(400, {{"error", e.what()}});
  }
  return json_answer(404, {{"detail", "Not Found"}});
}

} // namespace cxp::test
