#include "domain/turn/turn_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 3> prelude_events = {
  "response.created", "response.in_progress", "codex.rate_limits"};
constexpr std::array<std::string_view, 4> auth_error_codes = {
  "invalid_api_key", "invalid_authentication", "token_expired", "account_mismatch"};
constexpr std::array<std::string_view, 3> quota_error_codes = {
  "usage_limit_reached", "rate_limit_exceeded", "insufficient_quota"};
/// Failure codes of an overloaded or broken upstream (notes §3.5): another account may serve.
constexpr std::array<std::string_view, 6> retryable_error_codes = {
  "server_error",     "upstream_request_timeout", "stream_incomplete",
  "overloaded_error", "server_is_overloaded",     "websocket_connection_limit_reached"};
constexpr std::string_view connection_limit_code = "websocket_connection_limit_reached";

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

/// `code`, else `type`, of an `error` object.
std::string code_of(const json& error) {
  if (!error.is_object()) {
    return {};
  }
  auto code = string_at(error, "code");
  return code.empty() ? string_at(error, "type") : code;
}

bool is_error_event(const turn_signal& signal) {
  return signal.type == "error";
}

bool is_failed_event(const turn_signal& signal) {
  return signal.type == "response.failed" || signal.type == "response.incomplete";
}

bool is_auth_error(const turn_signal& signal) {
  return signal.status == 401 || is_auth_error_code(signal.code);
}

bool is_overload(const turn_signal& signal) {
  return signal.status == 429 || signal.status >= 500 || is_quota_code(signal.code)
         || is_retryable_code(signal.code);
}

turn_verdict fail_over_or_fail(const attempt_state& state) {
  return state.failover_allowed ? turn_verdict::fail_over : turn_verdict::failed;
}

/// An error (error event or non-2xx answer) before anything visible.
turn_verdict judge_error(const turn_signal& signal, const attempt_state& state) {
  if (is_auth_error(signal)) {
    // The account's credential, never the client's: refreshed once, then another account.
    return state.refreshed ? fail_over_or_fail(state) : turn_verdict::refresh_token;
  }
  if (signal.code == connection_limit_code && !state.reconnected) {
    return turn_verdict::reconnect;
  }
  if (is_overload(signal)) {
    return fail_over_or_fail(state);
  }
  return turn_verdict::reject;
}

turn_verdict judge_event(const turn_signal& signal, const attempt_state& state) {
  if (is_error_event(signal)) {
    return state.visible ? turn_verdict::failed : judge_error(signal, state);
  }
  if (is_failed_event(signal)) {
    if (!state.visible && (is_auth_error(signal) || is_overload(signal))) {
      return judge_error(signal, state);
    }
    return turn_verdict::failed;
  }
  if (!state.visible && contains(prelude_events, signal.type)) {
    return turn_verdict::hold;
  }
  if (signal.type == "response.completed") {
    return turn_verdict::completed;
  }
  return turn_verdict::relay;
}

} // namespace

bool is_auth_error_code(std::string_view code) {
  return contains(auth_error_codes, code);
}

bool is_quota_code(std::string_view code) {
  return contains(quota_error_codes, code);
}

bool is_retryable_code(std::string_view code) {
  return contains(retryable_error_codes, code);
}

turn_signal read_upstream_frame(const json& parsed) {
  turn_signal signal;
  if (!parsed.is_object()) {
    return signal;
  }
  signal.type = string_at(parsed, "type");
  if (signal.type == "error") {
    for (const auto* key : {"status", "status_code"}) {
      if (auto it = parsed.find(key); it != parsed.end() && it->is_number_integer()) {
        signal.status = it->get<int32_t>();
        break;
      }
    }
    if (auto error = parsed.find("error"); error != parsed.end()) {
      signal.code = code_of(*error);
    }
    return signal;
  }
  if (auto response = parsed.find("response"); response != parsed.end() && response->is_object()) {
    signal.response_id = string_at(*response, "id");
    if (auto error = response->find("error"); error != response->end()) {
      signal.code = code_of(*error);
    }
  }
  if (signal.type == "response.failed" && signal.code.empty()) {
    signal.code = "server_error"; // a failure the upstream did not explain is its own
  }
  return signal;
}

turn_signal read_upstream_answer(int32_t status, const json& body) {
  turn_signal signal;
  signal.kind = signal_kind::answer;
  signal.status = status;
  if (body.is_object()) {
    if (auto error = body.find("error"); error != body.end()) {
      signal.code = code_of(*error);
    }
  }
  return signal;
}

std::map<std::string, std::string> frame_headers(const json& frame) {
  std::map<std::string, std::string> headers;
  const auto found = frame.find("headers");
  if (found == frame.end() || !found->is_object()) {
    return headers;
  }
  for (const auto& [name, value] : found->items()) {
    std::string lower;
    for (const char c : name) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    headers[lower] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return headers;
}

std::string_view to_string(turn_verdict verdict) {
  switch (verdict) {
  case turn_verdict::hold:
    return "hold";
  case turn_verdict::relay:
    return "relay";
  case turn_verdict::completed:
    return "completed";
  case turn_verdict::failed:
    return "failed";
  case turn_verdict::refresh_token:
    return "refresh_token";
  case turn_verdict::reconnect:
    return "reconnect";
  case turn_verdict::fail_over:
    return "fail_over";
  case turn_verdict::reject:
    return "reject";
  }
  return "failed";
}

turn_verdict judge(const turn_signal& signal, const attempt_state& state) {
  switch (signal.kind) {
  case signal_kind::transport_failure:
    if (state.visible) {
      return turn_verdict::failed;
    }
    if (is_auth_error(signal)) {
      return judge_error(signal, state); // an upgrade refused for the credential
    }
    // A connection left open by an earlier turn may have died meanwhile: one fresh connection.
    if (state.reused && !state.reconnected && signal.status == 0) {
      return turn_verdict::reconnect;
    }
    return fail_over_or_fail(state);
  case signal_kind::malformed:
    return state.visible ? turn_verdict::failed : fail_over_or_fail(state);
  case signal_kind::answer:
    if (signal.status >= 200 && signal.status < 300) {
      return turn_verdict::completed;
    }
    return state.visible ? turn_verdict::failed : judge_error(signal, state);
  case signal_kind::event:
    break;
  }
  return judge_event(signal, state);
}

attempt_outcome outcome_of(const turn_signal& signal) {
  switch (signal.kind) {
  case signal_kind::transport_failure:
    if (signal.status == 0) {
      return attempt_outcome::network_error;
    }
    break;
  case signal_kind::malformed:
    return attempt_outcome::upstream_error;
  case signal_kind::answer:
    if (signal.status >= 200 && signal.status < 300) {
      return attempt_outcome::succeeded;
    }
    break;
  case signal_kind::event:
    if (!is_error_event(signal) && !is_failed_event(signal)) {
      return attempt_outcome::succeeded;
    }
    break;
  }
  if (is_auth_error(signal)) {
    return attempt_outcome::unauthorized;
  }
  if (is_quota_code(signal.code)) {
    return attempt_outcome::usage_limited;
  }
  if (is_overload(signal)) {
    return attempt_outcome::upstream_error;
  }
  return signal.kind == signal_kind::transport_failure ? attempt_outcome::network_error
                                                       : attempt_outcome::rejected;
}

std::string attempt_error_code(const turn_signal& signal) {
  switch (signal.kind) {
  case signal_kind::transport_failure:
    if (!signal.code.empty()) {
      return signal.code;
    }
    return signal.status > 0 ? "upgrade_" + std::to_string(signal.status)
                             : std::string{"network_error"};
  case signal_kind::malformed:
    return "upstream_malformed_answer";
  case signal_kind::answer:
    if (is_quota_code(signal.code)) {
      return signal.code;
    }
    return "upstream_" + std::to_string(signal.status);
  case signal_kind::event:
    break;
  }
  if (!signal.code.empty()) {
    return signal.code;
  }
  return signal.status > 0 ? "upstream_" + std::to_string(signal.status)
                           : std::string{"upstream_error"};
}

} // namespace cxp::domain
