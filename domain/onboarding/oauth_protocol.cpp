#include "domain/onboarding/oauth_protocol.hpp"

#include <algorithm>
#include <cstdio>

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/accounts/auth_json.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::domain::oauth {

namespace {

using json = nlohmann::json;

constexpr size_t verifier_bytes = 64;
constexpr size_t state_bytes = 32;
constexpr size_t max_token_answer_bytes = 256u * 1024u;

std::string percent_encode(std::string_view in) {
  std::string out;
  char buffer[4];
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::optional<std::string> text_member(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

json parse_small(std::string_view body, size_t limit) {
  if (body.size() > limit) {
    return json{};
  }
  auto parsed = json::parse(body, nullptr, false);
  return parsed.is_discarded() || !parsed.is_object() ? json{} : parsed;
}

std::optional<std::string> auth_member(const std::optional<json>& claims, const char* key) {
  if (!claims || !claims->is_object()) {
    return std::nullopt;
  }
  auto found = claims->find(std::string{openai_auth_claim});
  if (found == claims->end() || !found->is_object()) {
    return std::nullopt;
  }
  return text_member(*found, key);
}

std::optional<time_point> parse_expires_at(std::string text) {
  // "2026-07-21T20:56:56+00:00", sometimes with microseconds; only UTC offsets are seen.
  for (const std::string_view utc : {"+00:00", "Z"}) {
    if (text.size() > utc.size() && text.ends_with(utc)) {
      text.resize(text.size() - utc.size());
    }
  }
  return parse_iso8601(text + "Z");
}

} // namespace

pkce_pair make_pkce() {
  pkce_pair pair;
  pair.verifier = secret<std::string>{to_base64url(random_bytes(verifier_bytes))};
  pair.challenge = challenge_of(pair.verifier.expose());
  pair.state = secret<std::string>{to_base64url(random_bytes(state_bytes))};
  return pair;
}

std::string challenge_of(std::string_view verifier) {
  auto hex = persistence::sha256_hex(verifier);
  return to_base64url(from_hex(hex).value_or(std::string{}));
}

std::string authorize_url(std::string_view issuer, std::string_view challenge,
                          std::string_view state) {
  std::string url{issuer};
  url += "/oauth/authorize?response_type=code&client_id=" + percent_encode(client_id);
  url += "&redirect_uri=" + percent_encode(browser_redirect_uri);
  url += "&scope=" + percent_encode(scope);
  url += "&code_challenge=" + percent_encode(challenge) + "&code_challenge_method=S256";
  url += "&id_token_add_organizations=true&codex_cli_simplified_flow=true";
  url += "&state=" + percent_encode(state) + "&originator=" + percent_encode(originator);
  url += "&prompt=login";
  return url;
}

std::string code_exchange_body(std::string_view code, std::string_view redirect_uri,
                               std::string_view verifier) {
  return "grant_type=authorization_code&code=" + percent_encode(code)
         + "&redirect_uri=" + percent_encode(redirect_uri)
         + "&client_id=" + percent_encode(client_id) + "&code_verifier=" + percent_encode(verifier);
}

caf::expected<signed_in_account> parse_token_answer(std::string_view body) {
  auto answer = parse_small(body, max_token_answer_bytes);
  if (!answer.is_object()) {
    return make_error(errc::token_exchange_failed, "token answer is not a JSON object");
  }
  auto id_token = text_member(answer, "id_token");
  auto access = text_member(answer, "access_token");
  auto refresh = text_member(answer, "refresh_token");
  if (!id_token || !access || !refresh) {
    return make_error(errc::token_exchange_failed,
                      "token answer lacks id_token, access_token or refresh_token");
  }
  auto claims = decode_jwt_claims(*id_token);
  if (!claims) {
    return make_error(errc::token_exchange_failed, "id_token is not a JWT");
  }
  signed_in_account account;
  account.access_token = secret<std::string>{std::move(*access)};
  account.refresh_token = secret<std::string>{std::move(*refresh)};
  account.id_token = secret<std::string>{std::move(*id_token)};
  account.chatgpt_account_id = auth_member(claims, "chatgpt_account_id").value_or("");
  account.chatgpt_user_id = auth_member(claims, "chatgpt_user_id");
  if (!account.chatgpt_user_id) {
    account.chatgpt_user_id = auth_member(claims, "user_id");
  }
  account.plan_type = auth_member(claims, "chatgpt_plan_type");
  account.email = text_member(*claims, "email");
  if (!account.email) {
    if (auto profile = claims->find(std::string{openai_profile_claim});
        profile != claims->end() && profile->is_object()) {
      account.email = text_member(*profile, "email");
    }
  }
  return account;
}

std::string error_code_of(std::string_view body) {
  auto answer = parse_small(body, max_error_body_bytes);
  if (!answer.is_object()) {
    return {};
  }
  if (auto code = text_member(answer, "error")) {
    return *code;
  }
  if (auto error = answer.find("error"); error != answer.end() && error->is_object()) {
    if (auto code = text_member(*error, "code")) {
      return *code;
    }
  }
  return text_member(answer, "code").value_or("");
}

std::string to_auth_json(const signed_in_account& account, time_point now) {
  json tokens{{"id_token", account.id_token.expose()},
              {"access_token", account.access_token.expose()},
              {"refresh_token", account.refresh_token.expose()}};
  if (!account.chatgpt_account_id.empty()) {
    tokens["account_id"] = account.chatgpt_account_id;
  }
  return json{{"OPENAI_API_KEY", nullptr}, {"tokens", tokens}, {"last_refresh", to_iso8601(now)}}
    .dump();
}

caf::expected<device_code> parse_device_code(std::string_view body) {
  auto answer = parse_small(body, max_error_body_bytes);
  if (!answer.is_object()) {
    return make_error(errc::codex_auth_transient, "user-code answer is not a JSON object");
  }
  auto id = text_member(answer, "device_auth_id");
  auto code = text_member(answer, "user_code");
  if (!code) {
    code = text_member(answer, "usercode");
  }
  if (!id || !code) {
    return make_error(errc::codex_auth_transient, "user-code answer lacks its id or code");
  }
  device_code out;
  out.device_auth_id = secret<std::string>{std::move(*id)};
  out.user_code = secret<std::string>{std::move(*code)};
  if (auto interval = answer.find("interval"); interval != answer.end()) {
    long seconds = 0;
    if (interval->is_number_integer()) {
      seconds = interval->get<long>();
    } else if (interval->is_string()) {
      seconds = std::strtol(interval->get_ref<const std::string&>().c_str(), nullptr, 10);
    }
    if (seconds > 0) {
      out.interval = std::min(std::chrono::seconds{seconds}, max_poll_interval);
    }
  }
  if (auto expires = text_member(answer, "expires_at")) {
    out.expires_at = parse_expires_at(*expires);
  }
  return out;
}

std::string usercode_body() {
  return json{{"client_id", client_id}}.dump();
}

std::string device_poll_body(std::string_view device_auth_id, std::string_view user_code) {
  return json{{"device_auth_id", device_auth_id}, {"user_code", user_code}}.dump();
}

poll_result classify_poll(unsigned status, std::string_view body) {
  poll_result result;
  if (status == 200) {
    auto answer = parse_small(body, max_error_body_bytes);
    auto code = answer.is_object() ? text_member(answer, "authorization_code") : std::nullopt;
    auto verifier = answer.is_object() ? text_member(answer, "code_verifier") : std::nullopt;
    if (!code || !verifier) {
      return result;
    }
    result.outcome = poll_outcome::approved;
    result.authorization_code = secret<std::string>{std::move(*code)};
    result.code_verifier = secret<std::string>{std::move(*verifier)};
    return result;
  }
  const auto code = error_code_of(body);
  if (code == "slow_down") {
    result.outcome = poll_outcome::slow_down;
  } else if (code == "expired_token" || code == "deviceauth_expired") {
    result.outcome = poll_outcome::expired;
  } else if (code == "access_denied") {
    result.outcome = poll_outcome::denied;
  } else if (status == 403 || status == 404 || code == "authorization_pending"
             || code == "deviceauth_authorization_pending") {
    result.outcome = poll_outcome::pending;
  }
  return result;
}

std::string device_redirect_uri(std::string_view issuer) {
  return std::string{issuer} + "/deviceauth/callback";
}

std::string verification_url(std::string_view issuer) {
  return std::string{issuer} + "/codex/device";
}

} // namespace cxp::domain::oauth
