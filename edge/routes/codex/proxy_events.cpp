#include "edge/routes/codex/proxy_events.hpp"

#include <nlohmann/json.hpp>

#include "common/json_input.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

constexpr std::string_view blanks = " \t\r\n";

std::string message_of(cut_reason reason, std::string_view detail) {
  std::string message;
  switch (reason) {
  case cut_reason::incomplete:
    message = "The upstream stream ended before the response completed";
    break;
  case cut_reason::idle:
    message = "The upstream stream went idle before the response completed";
    break;
  case cut_reason::malformed:
    message = "The upstream sent a malformed event";
    break;
  }
  if (!detail.empty()) {
    message += " (" + std::string{detail} + ")";
  }
  return message + "; the partial answer is incomplete.";
}

} // namespace

std::string_view to_string(cut_reason reason) {
  switch (reason) {
  case cut_reason::idle:
    return "stream_idle_timeout";
  case cut_reason::malformed:
    return "upstream_malformed_event";
  case cut_reason::incomplete:
    break;
  }
  return "stream_incomplete";
}

std::string stream_cut_event(cut_reason reason, std::string_view detail, bool mid_event) {
  const json event = {
    {"type", "response.failed"},
    {"response",
     {{"object", "response"},
      {"status", "failed"},
      {"error", {{"code", to_string(reason)}, {"message", message_of(reason, detail)}}}}}};
  return std::string{mid_event ? "\n\n" : ""} + "event: response.failed\ndata: " + event.dump()
         + "\n\n";
}

bool looks_like_event(std::string_view data) {
  const auto first = data.find_first_not_of(blanks);
  const auto last = data.find_last_not_of(blanks);
  return first != std::string_view::npos && data[first] == '{' && data[last] == '}'
         && data.find("\"type\"") != std::string_view::npos;
}

bool is_event(std::string_view data) {
  if (!looks_like_event(data)) {
    return false;
  }
  return object_type_of(data).has_value();
}

} // namespace cxp::edge
