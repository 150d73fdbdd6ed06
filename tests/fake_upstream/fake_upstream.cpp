#include "tests/fake_upstream/fake_upstream.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "tests/fake_upstream/fake_encoding.hpp"
#include "tests/fake_upstream/fake_media.hpp"
#include "tests/fake_upstream/fake_oauth.hpp"
#include "tests/fake_upstream/fake_websocket.hpp"

namespace cxp::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using header_list = std::vector<std::pair<std::string, std::string>>;

constexpr size_t max_recorded_requests = 100000;

void from_json(const json& j, account_script& s) {
  auto get = [&j](const char* key, auto& field) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) {
      it->get_to(field);
    }
  };
  get("account_id", s.account_id);
  get("access_token", s.access_token);
  get("refresh_token", s.refresh_token);
  get("plan_type", s.plan_type);
  get("reply_text", s.reply_text);
  get("usage_limit_after", s.usage_limit_after);
  get("status_5xx", s.status_5xx);
  get("close_before_headers", s.close_before_headers);
  get("abrupt_close_after_events", s.abrupt_close_after_events);
  get("delay_first_byte_ms", s.delay_first_byte_ms);
  get("ws_event_interval_ms", s.ws_event_interval_ms);
  get("stall_after_events", s.stall_after_events);
  get("garbage_after_events", s.garbage_after_events);
  get("garbage_sse", s.garbage_sse);
  get("json_as_sse", s.json_as_sse);
  get("json_instead_of_sse", s.json_instead_of_sse);
  get("always_unauthorized", s.always_unauthorized);
  get("refresh_down", s.refresh_down);
  get("auth_error_status", s.auth_error_status);
  get("reject_status", s.reject_status);
  get("response_failed_first", s.response_failed_first);
  get("access_token_expired", s.access_token_expired);
  get("refresh_revoked", s.refresh_revoked);
  get("refresh_delay_ms", s.refresh_delay_ms);
  get("hidden_models", s.hidden_models);
  get("limited_model", s.limited_model);
  get("usage", s.usage);
  get("primary_limit", s.primary_limit);
  get("secondary_limit", s.secondary_limit);
  get("primary_reset_at", s.primary_reset_at);
  get("secondary_reset_at", s.secondary_reset_at);
}

void to_json(json& j, const account_script& s) {
  j = json{{"account_id", s.account_id},
           {"access_token", s.access_token},
           {"refresh_token", s.refresh_token},
           {"plan_type", s.plan_type},
           {"reply_text", s.reply_text},
           {"usage_limit_after", s.usage_limit_after},
           {"status_5xx", s.status_5xx},
           {"close_before_headers", s.close_before_headers},
           {"abrupt_close_after_events", s.abrupt_close_after_events},
           {"delay_first_byte_ms", s.delay_first_byte_ms},
           {"ws_event_interval_ms", s.ws_event_interval_ms},
           {"stall_after_events", s.stall_after_events},
           {"garbage_after_events", s.garbage_after_events},
           {"garbage_sse", s.garbage_sse},
           {"json_as_sse", s.json_as_sse},
           {"json_instead_of_sse", s.json_instead_of_sse},
           {"always_unauthorized", s.always_unauthorized},
           {"refresh_down", s.refresh_down},
           {"auth_error_status", s.auth_error_status},
           {"reject_status", s.reject_status},
           {"response_failed_first", s.response_failed_first},
           {"access_token_expired", s.access_token_expired},
           {"refresh_revoked", s.refresh_revoked},
           {"refresh_delay_ms", s.refresh_delay_ms},
           {"hidden_models", s.hidden_models},
           {"limited_model", s.limited_model},
           {"usage", s.usage},
           {"primary_limit", s.primary_limit},
           {"secondary_limit", s.secondary_limit},
           {"primary_reset_at", s.primary_reset_at},
           {"secondary_reset_at", s.secondary_reset_at}};
}

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// `Bearer abc` -> `Bearer sha256:<12 hex>` so recordings never hold a token.
std::string fingerprint_authorization(const std::string& value) {
  auto space = value.find(' ');
  std::string scheme = space == std::string::npos ? "" : value.substr(0, space) + " ";
  std::string secret = space == std::string::npos ? value : value.substr(space + 1);
  return scheme + "sha256:" + sha256_hex(secret).substr(0, 12);
}

json parse_form(const std::string& body) {
  json out = json::object();
  size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('&', start);
    if (end == std::string::npos) {
      end = body.size();
    }
    auto pair = body.substr(start, end - start);
    if (auto eq = pair.find('='); eq != std::string::npos) {
      out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

struct account_entry {
  account_script script;
  account_counters counters;
};

/// What a session must do with one request.
struct reply {
  enum class kind { full, sse, drop };
  kind what = kind::full;
  int status = 200;
  header_list headers;
  std::string body;                ///< full replies
  std::vector<std::string> events; ///< SSE `data:` payloads (JSON text)
  int close_after_events = -1;
  int stall_after_events = -1;   ///< hold the connection open after this many events
  int garbage_after_events = -1; ///< send a non-JSON event after this many events
  int delay_ms = 0;
  int event_interval_ms = 0; ///< websocket turns only
};

/// The data of `garbage_after_events` and `garbage_sse` events: what a broken proxy in front of
/// the backend might send.
constexpr std::string_view garbage_event_data = "<html><body>502 Bad Gateway</body></html>";

reply json_reply(int status, const json& body, header_list headers = {}) {
  reply r;
  r.status = status;
  r.headers = std::move(headers);
  r.headers.emplace_back("content-type", "application/json");
  r.body = body.dump();
  return r;
}

std::string format_percent(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

} // namespace

std::string make_fake_jwt(const std::string& account_id, const std::string& plan_type,
                          int generation, int64_t exp) {
  json header{{"alg", "none"}, {"typ", "JWT"}};
  json payload{{"exp", exp},
               {"gen", generation},
               {"https://api.openai.com/auth",
                {{"chatgpt_account_id", account_id},
                 {"chatgpt_plan_type", plan_type},
                 {"chatgpt_user_id", "user-" + account_id}}}};
  return base64url(header.dump()) + "." + base64url(payload.dump()) + ".fake";
}

struct fake_upstream::state : std::enable_shared_from_this<fake_upstream::state> {
  uint16_t requested_port = 0;
  size_t io_threads = 2;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;

  mutable std::mutex mutex;
  std::map<std::string, account_entry> accounts;
  std::map<std::string, std::string> retired_refresh_tokens; ///< token -> account id
  std::vector<recorded_request> requests;
  int64_t sequence = 0;
  media_state media; ///< files, transcription and images (fake_media.hpp)
  oauth_state oauth; ///< the OAuth issuer: sign-in, device code (fake_oauth.hpp)
  std::shared_ptr<fake_websocket_hub> websockets; ///< the websocket route (fake_websocket.hpp)

  void put_account(account_script script) {
    auto now = unix_now();
    if (script.primary_reset_at == 0) {
      script.primary_reset_at = now + 300 * 60;
    }
    if (script.secondary_reset_at == 0) {
      script.secondary_reset_at = now + 10080 * 60;
    }
    std::lock_guard lock{mutex};
    auto& entry = accounts[script.account_id];
    entry.script = std::move(script);
    entry.counters = {};
  }

  void do_accept();
  reply handle(const http::request<http::string_body>& request);
  reply handle_responses(const http::request<http::string_body>& request, bool compact);
  reply handle_models(const http::request<http::string_body>& request);
  reply handle_usage(const http::request<http::string_body>& request);
  reply handle_token(const http::request<http::string_body>& request);
  reply handle_control(const http::request<http::string_body>& request, const std::string& path);
  reply handle_oauth_request(const http::request<http::string_body>& request);
  void accept_oauth_tokens(const oauth_tokens_issued& tokens);
  account_entry* authenticate(const http::request<http::string_body>& request, reply& rejected);
  header_list quota_headers(const account_entry& entry, bool exhausted) const;
};

namespace {

int primary_limit_of(const account_script& s) {
  return s.usage_limit_after >= 0 ? s.usage_limit_after : s.primary_limit;
}

double percent_of(int used, int limit) {
  if (limit <= 0) {
    return 100.0;
  }
  return std::min(100.0, 100.0 * used / limit);
}

} // namespace

header_list fake_upstream::state::quota_headers(const account_entry& entry, bool exhausted) const {
  const auto& s = entry.script;
  auto now = unix_now();
  auto used = entry.counters.turns_served;
  auto primary = exhausted ? 100.0 : percent_of(used, primary_limit_of(s));
  auto secondary = percent_of(used, s.secondary_limit);
  return {
    {"x-codex-plan-type", s.plan_type},
    {"x-codex-active-limit", "codex"},
    {"x-codex-primary-used-percent", format_percent(primary)},
    {"x-codex-primary-window-minutes", "300"},
    {"x-codex-primary-reset-at", std::to_string(s.primary_reset_at)},
    {"x-codex-primary-reset-after-seconds",
     std::to_string(std::max<int64_t>(0, s.primary_reset_at - now))},
    {"x-codex-secondary-used-percent", format_percent(secondary)},
    {"x-codex-secondary-window-minutes", "10080"},
    {"x-codex-secondary-reset-at", std::to_string(s.secondary_reset_at)},
    {"x-codex-secondary-reset-after-seconds",
     std::to_string(std::max<int64_t>(0, s.secondary_reset_at - now))},
    {"x-codex-credits-has-credits", "False"},
    {"x-codex-credits-unlimited", "False"},
    {"x-codex-credits-balance", "0"},
  };
}

account_entry* fake_upstream::state::authenticate(const http::request<http::string_body>& request,
                                                  reply& rejected) {
  auto auth = std::string{request[http::field::authorization]};
  auto account_id = std::string{request["chatgpt-account-id"]};
  auto it = accounts.find(account_id);
  auto unauthorized = [&rejected](const std::string& code, const std::string& message) {
    rejected = json_reply(
      401, {{"error", {{"message", message}, {"type", "invalid_request_error"}, {"code", code}}}});
    return nullptr;
  };
  if (it == accounts.end()) {
    return unauthorized("account_mismatch", "Unknown or missing chatgpt-account-id.");
  }
  if (auth != "Bearer " + it->second.script.access_token) {
    return unauthorized("token_expired",
                        "Provided authentication token is expired or does not match the account.");
  }
  if (it->second.script.access_token_expired || it->second.script.always_unauthorized) {
    return unauthorized("token_expired", "Provided authentication token is expired.");
  }
  return &it->second;
}

reply fake_upstream::state::handle_responses(const http::request<http::string_body>& request,
                                             bool compact) {
  reply rejected;
  auto* entry = authenticate(request, rejected);
  if (entry == nullptr) {
    return rejected;
  }
  auto& s = entry->script;
  auto& c = entry->counters;
  ++c.turn_requests;
  if (s.close_before_headers) {
    reply r;
    r.what = reply::kind::drop;
    r.delay_ms = s.delay_first_byte_ms;
    return r;
  }
  if (s.auth_error_status != 0) {
    return json_reply(s.auth_error_status,
                      {{"error",
                        {{"type", "invalid_request_error"},
                         {"code", "token_expired"},
                         {"message", "Provided authentication token is expired."}}}});
  }
  if (s.reject_status != 0) {
    return json_reply(s.reject_status, {{"error",
                                         {{"type", "invalid_request_error"},
                                          {"code", "invalid_value"},
                                          {"message", "fake rejection"}}}});
  }
  if (s.status_5xx != 0) {
    auto code = s.status_5xx == 503 ? "server_is_overloaded" : "server_error";
    auto r = json_reply(s.status_5xx,
                        {{"error", {{"type", code}, {"code", code}, {"message", "fake failure"}}}},
                        quota_headers(*entry, false));
    r.delay_ms = s.delay_first_byte_ms;
    return r;
  }
  auto body = json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return json_reply(400, {{"error",
                             {{"message", "invalid JSON body"},
                              {"type", "invalid_request_error"},
                              {"code", "invalid_json"}}}});
  }
  if (!compact && body.contains("previous_response_id")) {
    return json_reply(400, {{"error",
                             {{"message", "Unsupported parameter: previous_response_id"},
                              {"type", "invalid_request_error"},
                              {"param", "previous_response_id"},
                              {"code", "unsupported_parameter"}}}});
  }
  if (!s.limited_model.empty() && body.value("model", std::string{}) == s.limited_model) {
    const auto resets_at = unix_now() + 3600;
    auto headers = quota_headers(*entry, false);
    for (auto& [name, value] : headers) {
      if (name == "x-codex-active-limit") {
        value = "codex_other";
      }
    }
    headers.emplace_back("x-codex-other-primary-used-percent", "100");
    headers.emplace_back("x-codex-other-primary-window-minutes", "300");
    headers.emplace_back("x-codex-other-primary-reset-at", std::to_string(resets_at));
    headers.emplace_back("x-codex-other-limit-name", s.limited_model);
    return json_reply(429,
                      {{"error",
                        {{"type", "usage_limit_reached"},
                         {"message", "The usage limit has been reached"},
                         {"plan_type", s.plan_type},
                         {"resets_at", resets_at},
                         {"resets_in_seconds", 3600}}}},
                      std::move(headers));
  }
  auto primary_exhausted = c.turns_served >= primary_limit_of(s);
  if (primary_exhausted || c.turns_served >= s.secondary_limit) {
    auto resets_at = primary_exhausted ? s.primary_reset_at : s.secondary_reset_at;
    auto r = json_reply(429,
                        {{"error",
                          {{"type", "usage_limit_reached"},
                           {"message", "The usage limit has been reached"},
                           {"plan_type", s.plan_type},
                           {"resets_at", resets_at},
                           {"eligible_promo", nullptr},
                           {"resets_in_seconds", std::max<int64_t>(0, resets_at - unix_now())}}}},
                        quota_headers(*entry, true));
    r.delay_ms = s.delay_first_byte_ms;
    return r;
  }
  auto id = std::to_string(++sequence);
  auto response_id = "resp_" + id;
  auto item_id = "msg_" + id;
  json message_item{
    {"id", item_id},
    {"type", "message"},
    {"role", "assistant"},
    {"status", "completed"},
    {"content",
     {{{"type", "output_text"}, {"text", s.reply_text}, {"annotations", json::array()}}}}};
  json usage = s.usage.is_null() ? json{{"input_tokens", 10},
                                        {"input_tokens_details", {{"cached_tokens", 2}}},
                                        {"output_tokens", 3},
                                        {"output_tokens_details", {{"reasoning_tokens", 1}}},
                                        {"total_tokens", 13}}
                                 : s.usage;
  if (compact) {
    ++c.turns_served;
    return json_reply(
      200,
      {{"output",
        {{{"type", "compaction"}, {"id", "cmp_" + id}, {"encrypted_content", "ENC_" + id}}}}},
      quota_headers(*entry, false));
  }
  auto model = body.value("model", std::string{"gpt-fake"});
  header_list extra{{"x-request-id", "req_" + id},
                    {"x-models-etag", "fake-etag-1"},
                    {"openai-model", model},
                    {"x-codex-turn-state", "ts_" + id}};
  if (s.response_failed_first) {
    reply r;
    r.what = reply::kind::sse;
    r.headers = quota_headers(*entry, false);
    r.headers.insert(r.headers.end(), extra.begin(), extra.end());
    r.delay_ms = s.delay_first_byte_ms;
    r.events.push_back(json{{"type", "response.failed"},
                            {"sequence_number", 0},
                            {"response",
                             {{"id", response_id},
                              {"status", "failed"},
                              {"error", {{"code", "server_error"}, {"message", "fake failure"}}}}}}
                         .dump());
    return r;
  }
  ++c.turns_served;
  auto headers = quota_headers(*entry, false);
  headers.insert(headers.end(), extra.begin(), extra.end());
  if (auto scripted = scripted_turn(body, response_id, model)) {
    reply r;
    r.what = reply::kind::sse;
    r.headers = std::move(headers);
    r.events = std::move(*scripted);
    return r;
  }
  if (s.garbage_sse) {
    reply r;
    r.what = reply::kind::sse;
    r.headers = std::move(headers);
    r.garbage_after_events = 0;
    return r;
  }
  if (s.json_as_sse || s.json_instead_of_sse || !body.value("stream", true)) {
    auto r = json_reply(200,
                        {{"id", response_id},
                         {"object", "response"},
                         {"created_at", unix_now()},
                         {"status", "completed"},
                         {"model", model},
                         {"output", {message_item}},
                         {"usage", usage}},
                        std::move(headers));
    r.delay_ms = s.delay_first_byte_ms;
    for (auto& [name, value] : r.headers) {
      value = name == "content-type" && s.json_as_sse ? "text/event-stream" : value;
    }
    return r;
  }
  reply r;
  r.what = reply::kind::sse;
  r.headers = std::move(headers);
  r.delay_ms = s.delay_first_byte_ms;
  r.close_after_events = s.abrupt_close_after_events;
  r.stall_after_events = s.stall_after_events;
  r.garbage_after_events = s.garbage_after_events;
  r.event_interval_ms = s.ws_event_interval_ms;
  auto used = c.turns_served;
  int seq = 0;
  auto add = [&r](json event) {
    r.events.push_back(event.dump());
  };
  add({{"type", "response.created"},
       {"sequence_number", seq++},
       {"response",
        {{"id", response_id},
         {"object", "response"},
         {"created_at", unix_now()},
         {"status", "in_progress"},
         {"model", model},
         {"output", json::array()}}}});
  add({{"type", "response.in_progress"},
       {"sequence_number", seq++},
       {"response",
        {{"id", response_id},
         {"object", "response"},
         {"status", "in_progress"},
         {"output", json::array()}}}});
  add({{"type", "codex.rate_limits"},
       {"plan_type", s.plan_type},
       {"rate_limits",
        {{"allowed", true},
         {"limit_reached", false},
         {"primary",
          {{"used_percent", percent_of(used, primary_limit_of(s))},
           {"window_minutes", 300},
           {"reset_at", s.primary_reset_at}}},
         {"secondary",
          {{"used_percent", percent_of(used, s.secondary_limit)},
           {"window_minutes", 10080},
           {"reset_at", s.secondary_reset_at}}}}},
       {"credits", {{"has_credits", false}, {"unlimited", false}, {"balance", "0"}}}});
  add({{"type", "response.output_item.added"},
       {"sequence_number", seq++},
       {"output_index", 0},
       {"item",
        {{"id", item_id},
         {"type", "message"},
         {"role", "assistant"},
         {"status", "in_progress"},
         {"content", json::array()}}}});
  add({{"type", "response.output_text.delta"},
       {"sequence_number", seq++},
       {"item_id", item_id},
       {"output_index", 0},
       {"content_index", 0},
       {"delta", s.reply_text}});
  add({{"type", "response.output_text.done"},
       {"sequence_number", seq++},
       {"item_id", item_id},
       {"output_index", 0},
       {"content_index", 0},
       {"text", s.reply_text}});
  add({{"type", "response.output_item.done"},
       {"sequence_number", seq++},
       {"output_index", 0},
       {"item", message_item}});
  add({{"type", "response.completed"},
       {"sequence_number", seq++},
       {"response",
        {{"id", response_id},
         {"object", "response"},
         {"status", "completed"},
         {"output", json::array()},
         {"usage", usage}}}});
  return r;
}

reply fake_upstream::state::handle_models(const http::request<http::string_body>& request) {
  reply rejected;
  auto* entry = authenticate(request, rejected);
  if (entry == nullptr) {
    return rejected;
  }
  json levels = json::array();
  for (const char* effort : {"low", "medium", "high"}) {
    levels.push_back({{"effort", effort}, {"description", effort}});
  }
  auto model_entry = [&levels](const std::string& slug, const std::string& name, int priority) {
    return json{{"slug", slug},
                {"display_name", name},
                {"description", "fake model"},
                {"default_reasoning_level", "medium"},
                {"supported_reasoning_levels", levels},
                {"shell_type", "shell_command"},
                {"visibility", "list"},
                {"supported_in_api", true},
                {"priority", priority},
                {"base_instructions", "FAKE-BASE-INSTRUCTIONS"},
                {"supports_reasoning_summaries", true},
                {"support_verbosity", true},
                {"default_verbosity", "low"},
                {"apply_patch_tool_type", "freeform"},
                {"truncation_policy", {{"mode", "tokens"}, {"limit", 10000}}},
                {"supports_parallel_tool_calls", true},
                {"context_window", 272000},
                {"experimental_supported_tools", json::array()}};
  };
  json models = json::array();
  const auto& hidden = entry->script.hidden_models;
  for (const auto& [slug, name, priority] :
       {std::tuple{"gpt-5.5", "GPT-5.5", 0}, std::tuple{"gpt-fake", "GPT Fake", 1}}) {
    if (std::find(hidden.begin(), hidden.end(), slug) == hidden.end()) {
      models.push_back(model_entry(slug, name, priority));
    }
  }
  return json_reply(200, {{"models", models}}, {{"etag", "fake-etag-1"}});
}

reply fake_upstream::state::handle_usage(const http::request<http::string_body>& request) {
  reply rejected;
  auto* entry = authenticate(request, rejected);
  if (entry == nullptr) {
    return rejected;
  }
  const auto& s = entry->script;
  auto used = entry->counters.turns_served;
  auto now = unix_now();
  auto primary = static_cast<int>(percent_of(used, primary_limit_of(s)));
  auto secondary = static_cast<int>(percent_of(used, s.secondary_limit));
  auto window = [now](int percent, int64_t seconds, int64_t reset_at) {
    return json{{"used_percent", percent},
                {"limit_window_seconds", seconds},
                {"reset_after_seconds", std::max<int64_t>(0, reset_at - now)},
                {"reset_at", reset_at}};
  };
  auto reached = primary >= 100 || secondary >= 100;
  return json_reply(
    200,
    {{"plan_type", s.plan_type},
     {"rate_limit",
      {{"allowed", !reached},
       {"limit_reached", reached},
       {"primary_window", window(primary, 18000, s.primary_reset_at)},
       {"secondary_window", window(secondary, 604800, s.secondary_reset_at)}}},
     {"credits", {{"has_credits", false}, {"unlimited", false}, {"balance", "0"}}},
     {"additional_rate_limits", json::array()},
     {"rate_limit_reached_type", reached ? json{{"type", "rate_limit_reached"}} : json(nullptr)}});
}

reply fake_upstream::state::handle_token(const http::request<http::string_body>& request) {
  auto content_type = std::string{request[http::field::content_type]};
  json body = content_type.find("x-www-form-urlencoded") != std::string::npos
                ? parse_form(request.body())
                : json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return json_reply(400, {{"error", "invalid_request"}, {"error_description", "bad body"}});
  }
  if (body.value("grant_type", std::string{}) != "refresh_token") {
    return json_reply(400, {{"error", "unsupported_grant_type"},
                            {"error_description", "only refresh_token is supported"}});
  }
  auto token = body.value("refresh_token", std::string{});
  auto invalid_grant =
    json_reply(400, {{"error", "invalid_grant"}, {"error_description", "Invalid refresh token."}});
  if (token.empty()) {
    return invalid_grant;
  }
  for (auto& [account_id, entry] : accounts) {
    auto& s = entry.script;
    if (s.refresh_token != token) {
      continue;
    }
    ++entry.counters.refresh_calls;
    if (s.refresh_down) {
      reply down;
      down.what = reply::kind::drop;
      return down;
    }
    if (s.refresh_revoked) {
      return json_reply(401, {{"error",
                               {{"message", "Your refresh token has been invalidated."},
                                {"type", "invalid_request_error"},
                                {"param", nullptr},
                                {"code", "refresh_token_invalidated"}}}});
    }
    auto generation = ++entry.counters.generation;
    auto exp = unix_now() + fake_token_lifetime_s;
    retired_refresh_tokens[token] = account_id;
    s.access_token = make_fake_jwt(account_id, s.plan_type, generation, exp);
    s.refresh_token = "rt-" + account_id + "-" + std::to_string(generation) + "-"
                      + sha256_hex(token + std::to_string(++sequence)).substr(0, 16);
    s.access_token_expired = false;
    s.auth_error_status = 0;
    auto answer =
      json_reply(200, {{"access_token", s.access_token},
                       {"refresh_token", s.refresh_token},
                       {"id_token", make_fake_jwt(account_id, s.plan_type, generation, exp)},
                       {"expires_in", fake_token_lifetime_s},
                       {"token_type", "Bearer"},
                       {"scope", "openid profile email offline_access"}});
    answer.delay_ms = s.refresh_delay_ms;
    return answer;
  }
  if (auto it = retired_refresh_tokens.find(token); it != retired_refresh_tokens.end()) {
    int delay_ms = 0;
    if (auto owner = accounts.find(it->second); owner != accounts.end()) {
      ++owner->second.counters.refresh_calls;
      delay_ms = owner->second.script.refresh_delay_ms;
    }
    auto reused = json_reply(
      401, {{"error",
             {{"message", "Your refresh token has already been used to generate a new access "
                          "token. Please try signing in again."},
              {"type", "invalid_request_error"},
              {"param", nullptr},
              {"code", "refresh_token_reused"}}}});
    reused.delay_ms = delay_ms;
    return reused;
  }
  return invalid_grant;
}

reply fake_upstream::state::handle_control(const http::request<http::string_body>& request,
                                           const std::string& path) {
  if (path == "/__control/requests" && request.method() == http::verb::get) {
    json out = json::array();
    for (const auto& r : requests) {
      out.push_back(
        {{"method", r.method}, {"target", r.target}, {"headers", r.headers}, {"body", r.body}});
    }
    return json_reply(200, out);
  }
  if (path == "/__control/requests" && request.method() == http::verb::delete_) {
    requests.clear();
    return json_reply(200, {{"ok", true}});
  }
  if (path == "/__control/websockets" && request.method() == http::verb::get) {
    json out = json::array();
    for (const auto& record : websockets->connections()) {
      out.push_back(to_json(record));
    }
    return json_reply(200, out);
  }
  if (path == "/__control/accounts" && request.method() == http::verb::get) {
    json out = json::array();
    for (const auto& [id, entry] : accounts) {
      json item = entry.script;
      item["counters"] = {{"turns_served", entry.counters.turns_served},
                          {"turn_requests", entry.counters.turn_requests},
                          {"refresh_calls", entry.counters.refresh_calls},
                          {"generation", entry.counters.generation}};
      out.push_back(item);
    }
    return json_reply(200, out);
  }
  return json_reply(404, {{"detail", "Not Found"}});
}

reply fake_upstream::state::handle(const http::request<http::string_body>& request) {
  auto target = std::string{request.target()};
  auto path = target.substr(0, target.find('?'));
  auto post = request.method() == http::verb::post;
  auto get = request.method() == http::verb::get;
  if (path.rfind("/__control/oauth/", 0) == 0) {
    return handle_oauth_request(request);
  }
  if (path.rfind("/__control/", 0) == 0) {
    return handle_control(request, path);
  }
  recorded_request record{std::string{request.method_string()}, target, {}, request.body()};
  for (const auto& field : request) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    std::string value{field.value()};
    if (name == "authorization") {
      value = fingerprint_authorization(value);
    }
    auto& slot = record.headers[name];
    slot += (slot.empty() ? "" : "\n") + value;
  }
  if (requests.size() >= max_recorded_requests) {
    // Bounded so long benchmark runs do not grow without limit; keeps the newest half.
    requests.erase(requests.begin(), requests.begin() + max_recorded_requests / 2);
  }
  requests.push_back(std::move(record));
  if (is_oauth_request(std::string{request.method_string()}, path,
                       std::string{request[http::field::content_type]}, request.body())) {
    return handle_oauth_request(request);
  }
  if (is_media_path(path)) {
    reply rejected;
    auto* entry = media_needs_auth(path) ? authenticate(request, rejected) : nullptr;
    if (media_needs_auth(path) && entry == nullptr) {
      return rejected;
    }
    auto answer = handle_media(media, std::string{request.method_string()}, path,
                               std::string{request[http::field::content_type]}, request.body(),
                               entry != nullptr ? entry->script.account_id : "", bound_port);
    reply r;
    r.status = answer.status;
    r.headers = std::move(answer.headers);
    r.body = std::move(answer.body);
    return r;
  }
  if (post
      && (path == "/backend-api/codex/responses" || path == "/backend-api/codex/v1/responses")) {
    return handle_responses(request, false);
  }
  if (post && path == "/backend-api/codex/responses/compact") {
    return handle_responses(request, true);
  }
  if (get && path == "/backend-api/codex/models") {
    return handle_models(request);
  }
  if (get && (path == "/backend-api/wham/usage" || path == "/api/codex/usage")) {
    return handle_usage(request);
  }
  if (post && path == "/oauth/token") {
    return handle_token(request);
  }
  return json_reply(404, {{"detail", "Not Found"}});
}

reply fake_upstream::state::handle_oauth_request(const http::request<http::string_body>& request) {
  auto answer =
    handle_oauth(oauth, std::string{request.method_string()}, std::string{request.target()},
                 std::string{request[http::field::content_type]}, request.body(),
                 std::string{request[http::field::host]},
                 [this](const oauth_tokens_issued& tokens) { accept_oauth_tokens(tokens); });
  reply r;
  r.status = answer.status;
  r.headers = std::move(answer.headers);
  r.body = std::move(answer.body);
  r.delay_ms = answer.delay_ms;
  return r;
}

/// A signed-in identity becomes (or stays) a backend account that accepts the new tokens, so an
/// account added through a sign-in flow serves turns. Called under the lock.
void fake_upstream::state::accept_oauth_tokens(const oauth_tokens_issued& tokens) {
  auto [it, created] = accounts.try_emplace(tokens.identity.account_id);
  auto& s = it->second.script;
  if (created) {
    s.account_id = tokens.identity.account_id;
    s.plan_type = tokens.identity.plan_type;
    s.primary_reset_at = unix_now() + 300 * 60;
    s.secondary_reset_at = unix_now() + 10080 * 60;
  }
  if (!s.refresh_token.empty()) {
    retired_refresh_tokens[s.refresh_token] = s.account_id;
  }
  s.access_token = tokens.access_token;
  s.refresh_token = tokens.refresh_token;
  s.access_token_expired = false;
  s.always_unauthorized = false;
  s.refresh_revoked = false;
  s.auth_error_status = 0;
}

namespace {

reply handle_accounts_post(fake_upstream::state& st, const std::string& body) {
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    return json_reply(400, {{"error", "invalid JSON"}});
  }
  if (parsed.is_object() && parsed.contains("accounts")) {
    parsed = parsed["accounts"];
  }
  if (parsed.is_object()) {
    parsed = json::array({parsed});
  }
  if (!parsed.is_array()) {
    return json_reply(400, {{"error", "expected an account object or array"}});
  }
  try {
    for (const auto& item : parsed) {
      st.put_account(item.get<account_script>());
    }
  } catch (const json::exception& e) {
    return json_reply(400, {{"error", e.what()}});
  }
  return json_reply(200, {{"ok", true}, {"count", parsed.size()}});
}

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<fake_upstream::state> st)
      : stream_(std::move(socket)),
        state_(std::move(st)),
        timer_(stream_.get_executor()) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(64u << 20);
    stream_.expires_after(std::chrono::seconds{120});
    http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      do_close();
      return;
    }
    auto request = parser_->release();
    keep_alive_ = request.keep_alive();
    auto target = std::string{request.target()};
    if (beast::websocket::is_upgrade(request)) {
      stream_.expires_never();
      state_->websockets->accept(stream_.release_socket(), std::move(request));
      return;
    }
    if (request.method() == http::verb::post
        && target.substr(0, target.find('?')) == "/__control/websockets/close") {
      state_->websockets->close_all();
      reply_ = json_reply(200, {{"ok", true}});
      return do_write();
    }
    if (request.method() == http::verb::post
        && target.substr(0, target.find('?')) == "/__control/accounts") {
      reply_ = handle_accounts_post(*state_, request.body());
    } else {
      std::lock_guard lock{state_->mutex};
      reply_ = state_->handle(request);
    }
    if (reply_.delay_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds{reply_.delay_ms});
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->do_write(); });
      return;
    }
    do_write();
  }

  void do_write() {
    if (reply_.what == reply::kind::drop) {
      do_close();
      return;
    }
    auto out = std::make_shared<std::string>();
    auto close_after = false;
    std::optional<size_t> later_from; ///< the bytes from here go out in a second write
    if (reply_.what == reply::kind::full) {
      http::response<http::string_body> response{static_cast<http::status>(reply_.status), 11};
      for (const auto& [name, value] : reply_.headers) {
        response.set(name, value);
      }
      response.keep_alive(keep_alive_);
      response.body() = std::move(reply_.body);
      response.prepare_payload();
      // Serialise into a string so both reply kinds share one write path.
      std::ostringstream os;
      os << response;
      *out = os.str();
      close_after = !keep_alive_;
    } else {
      *out = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n";
      for (const auto& [name, value] : reply_.headers) {
        *out += name + ": " + value + "\r\n";
      }
      *out += std::string{"connection: "} + (keep_alive_ ? "keep-alive" : "close") + "\r\n";
      *out += "transfer-encoding: chunked\r\n\r\n";
      auto limit = reply_.close_after_events >= 0
                     ? std::min<size_t>(reply_.events.size(), reply_.close_after_events)
                     : reply_.events.size();
      if (reply_.stall_after_events >= 0) {
        limit = std::min<size_t>(limit, reply_.stall_after_events);
      }
      // The garbage event goes out in a later write, as a broken hop would add it mid-stream:
      // the events before it are read (and relayed) first.
      for (size_t i = 0; i < limit; ++i) {
        if (static_cast<int>(i) == reply_.garbage_after_events) {
          later_from = out->size();
          *out += chunk("data: " + std::string{garbage_event_data} + "\n\n");
        }
        auto type = json::parse(reply_.events[i], nullptr, false).value("type", std::string{});
        *out += chunk("event: " + type + "\ndata: " + reply_.events[i] + "\n\n");
      }
      if (reply_.garbage_after_events >= static_cast<int>(limit)) {
        later_from = out->size();
        *out += chunk("data: " + std::string{garbage_event_data} + "\n\n");
      }
      if (reply_.stall_after_events >= 0) {
        stalled_ = true;
      } else if (reply_.close_after_events >= 0) {
        close_after = true;
      } else {
        *out += "0\r\n\r\n";
        close_after = !keep_alive_;
      }
    }
    stream_.expires_after(std::chrono::seconds{60});
    if (later_from) {
      return write_in_two(out, *later_from, close_after);
    }
    net::async_write(stream_, net::buffer(*out),
                     [self = shared_from_this(), out, close_after](beast::error_code ec, size_t) {
                       self->on_write(ec, close_after);
                     });
  }

  /// `out` up to `split` now, the rest a moment later.
  void write_in_two(std::shared_ptr<std::string> out, size_t split, bool close_after) {
    net::async_write(
      stream_, net::buffer(out->data(), split),
      [self = shared_from_this(), out, split, close_after](beast::error_code ec, size_t) {
        if (ec) {
          return self->on_write(ec, close_after);
        }
        self->timer_.expires_after(std::chrono::milliseconds{20});
        self->timer_.async_wait([self, out, split, close_after](beast::error_code) {
          net::async_write(self->stream_, net::buffer(out->data() + split, out->size() - split),
                           [self, out, close_after](beast::error_code ec2, size_t) {
                             self->on_write(ec2, close_after);
                           });
        });
      });
  }

  void on_write(beast::error_code ec, bool close_after) {
    if (ec || close_after) {
      do_close();
      return;
    }
    if (stalled_) {
      // Silent but open, until the client gives up (or a minute passes).
      stream_.expires_never();
      timer_.expires_after(std::chrono::seconds{60});
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->do_close(); });
      return;
    }
    do_read();
  }

  void do_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<fake_upstream::state> state_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  reply reply_;
  bool keep_alive_ = true;
  bool stalled_ = false;
};

/// The websocket route answers turns exactly like the HTTP route would (same auth, quota and
/// scripts); `state` outlives every session because its threads are joined first.
ws_backend make_ws_backend(const std::shared_ptr<fake_upstream::state>& st) {
  std::weak_ptr<fake_upstream::state> weak = st;
  ws_backend backend;
  backend.authenticate = [weak](const ws_upgrade_request& request) {
    std::pair<std::string, std::optional<std::pair<int, std::string>>> out;
    auto self = weak.lock();
    if (!self) {
      out.second = std::pair{503, std::string{"{}"}};
      return out;
    }
    std::lock_guard lock{self->mutex};
    reply rejected;
    if (auto* entry = self->authenticate(request, rejected)) {
      out.first = entry->script.account_id;
    } else {
      out.second = std::pair{rejected.status, rejected.body};
    }
    return out;
  };
  backend.turn = [weak](const ws_upgrade_request& upgrade, const json& body) {
    ws_turn_reply out;
    auto self = weak.lock();
    if (!self) {
      out.drop = true;
      return out;
    }
    http::request<http::string_body> request{http::verb::post, "/backend-api/codex/responses", 11};
    for (const auto& field : upgrade) {
      request.set(field.name_string(), field.value());
    }
    request.body() = body.dump();
    std::lock_guard lock{self->mutex};
    auto answer = self->handle_responses(request, false);
    out.status = answer.status;
    out.headers = std::move(answer.headers);
    out.body = std::move(answer.body);
    out.events = std::move(answer.events);
    out.drop = answer.what == reply::kind::drop;
    out.close_after_events = answer.close_after_events;
    out.delay_ms = answer.delay_ms;
    out.event_interval_ms = answer.event_interval_ms;
    return out;
  };
  return backend;
}

} // namespace

void fake_upstream::state::do_accept() {
  acceptor.async_accept(net::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec == net::error::operation_aborted || !self->acceptor.is_open()) {
                              return;
                            }
                          } else {
                            socket.set_option(tcp::no_delay{true});
                            std::make_shared<session>(std::move(socket), self)->run();
                          }
                          self->do_accept();
                        });
}

fake_upstream::fake_upstream(uint16_t port, size_t io_threads) : state_(std::make_shared<state>()) {
  state_->requested_port = port;
  state_->io_threads = std::max<size_t>(1, io_threads);
  state_->websockets = std::make_shared<fake_websocket_hub>(make_ws_backend(state_));
}

fake_upstream::~fake_upstream() {
  stop();
}

std::optional<std::string> fake_upstream::start() {
  beast::error_code ec;
  tcp::endpoint endpoint{net::ip::make_address("127.0.0.1"), state_->requested_port};
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return "fake_upstream: cannot listen on 127.0.0.1:" + std::to_string(state_->requested_port)
           + ": " + ec.message();
  }
  state_->bound_port = acceptor.local_endpoint().port();
  state_->do_accept();
  for (size_t i = 0; i < state_->io_threads; ++i) {
    state_->threads.emplace_back([st = state_] { st->ioc.run(); });
  }
  return std::nullopt;
}

void fake_upstream::stop() {
  if (state_->threads.empty()) {
    return;
  }
  net::post(state_->ioc, [st = state_] {
    beast::error_code ignored;
    st->acceptor.close(ignored);
  });
  state_->ioc.stop();
  for (auto& thread : state_->threads) {
    thread.join();
  }
  state_->threads.clear();
}

uint16_t fake_upstream::port() const {
  return state_->bound_port;
}

void fake_upstream::set_account(const account_script& script) {
  state_->put_account(script);
}

std::optional<account_script> fake_upstream::account(const std::string& account_id) const {
  std::lock_guard lock{state_->mutex};
  auto it = state_->accounts.find(account_id);
  if (it == state_->accounts.end()) {
    return std::nullopt;
  }
  return it->second.script;
}

account_counters fake_upstream::counters(const std::string& account_id) const {
  std::lock_guard lock{state_->mutex};
  auto it = state_->accounts.find(account_id);
  return it == state_->accounts.end() ? account_counters{} : it->second.counters;
}

std::vector<recorded_request> fake_upstream::recorded() const {
  std::lock_guard lock{state_->mutex};
  return state_->requests;
}

std::vector<ws_connection_record> fake_upstream::websocket_connections() const {
  return state_->websockets->connections();
}

void fake_upstream::close_websockets() {
  state_->websockets->close_all();
}

void fake_upstream::clear_recorded() {
  std::lock_guard lock{state_->mutex};
  state_->requests.clear();
}

} // namespace cxp::test
