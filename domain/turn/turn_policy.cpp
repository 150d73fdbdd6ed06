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

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

} // namespace

upstream_frame read_upstream_frame(const json& parsed) {
  upstream_frame frame;
  if (!parsed.is_object()) {
    return frame;
  }
  frame.type = string_at(parsed, "type");
  if (frame.type == "error") {
    for (const auto* key : {"status", "status_code"}) {
      if (auto it = parsed.find(key); it != parsed.end() && it->is_number_integer()) {
        frame.status = it->get<int32_t>();
        break;
      }
    }
    if (auto error = parsed.find("error"); error != parsed.end() && error->is_object()) {
      frame.code = string_at(*error, "code");
      if (frame.code.empty()) {
        frame.code = string_at(*error, "type");
      }
    }
    frame.quota = contains(quota_error_codes, frame.code);
    return frame;
  }
  if (auto response = parsed.find("response"); response != parsed.end() && response->is_object()) {
    frame.response_id = string_at(*response, "id");
  }
  return frame;
}

frame_verdict judge_frame(const upstream_frame& frame, bool visible, bool refreshed,
                          bool reconnected) {
  if (frame.type == "error") {
    if (visible) {
      return frame_verdict::failed;
    }
    if ((frame.status == 401 || contains(auth_error_codes, frame.code)) && !refreshed) {
      return frame_verdict::refresh_token;
    }
    if (frame.code == "websocket_connection_limit_reached" && !reconnected) {
      return frame_verdict::reconnect;
    }
    if (frame.status == 429 || frame.status >= 500 || frame.quota) {
      return frame_verdict::fail_over;
    }
    return frame_verdict::failed;
  }
  if (!visible && contains(prelude_events, frame.type)) {
    return frame_verdict::hold;
  }
  if (frame.type == "response.completed") {
    return frame_verdict::completed;
  }
  if (frame.type == "response.failed" || frame.type == "response.incomplete") {
    return frame_verdict::failed;
  }
  return frame_verdict::relay;
}

std::map<std::string, std::string> frame_headers(const nlohmann::json& frame) {
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

} // namespace cxp::domain
