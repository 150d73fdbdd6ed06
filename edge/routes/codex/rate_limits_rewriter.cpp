#include "edge/routes/codex/rate_limits_rewriter.hpp"

#include <optional>

#include <nlohmann/json.hpp>

#include "actors/upstream/sse_parser.hpp"
#include "common/json_input.hpp"

namespace cxp::edge {

namespace {

constexpr std::string_view rate_limits_type = "codex.rate_limits";

bool is_rate_limits(std::string_view event) {
  if (event.find(rate_limits_type) == std::string_view::npos) {
    return false; // the cheap test: most events never mention it
  }
  actors::sse_parser parser;
  for (const auto& parsed : parser.feed(event)) {
    if (parsed.name == rate_limits_type) {
      return true;
    }
    if (object_type_of(parsed.data) == rate_limits_type) {
      return true;
    }
  }
  return false;
}

bool carries_data(std::string_view event) {
  actors::sse_parser parser;
  return !parser.feed(event).empty();
}

} // namespace

std::string rate_limits_sse(const domain::pooled_quota& quota) {
  // A pool's answers mostly show the capacity its previous answer showed, so the text is built
  // again only when the quota differs from the last one this io thread rendered (no lock).
  thread_local std::optional<domain::pooled_quota> last_quota;
  thread_local std::string last_text;
  if (last_quota != quota) {
    last_text.clear();
    for (const auto& event : domain::rate_limits_events(quota)) {
      last_text += "event: codex.rate_limits\ndata: " + event.dump() + "\n\n";
    }
    last_quota = quota;
  }
  return last_text;
}

std::string rate_limits_rewriter::feed(std::string_view chunk) {
  held_.append(chunk);
  std::string out;
  size_t start = 0;
  size_t pos = scanned_;
  for (auto end = held_.find('\n', pos); end != std::string::npos; end = held_.find('\n', pos)) {
    // A blank line (LF, or CR LF) ends the event that started at `start`.
    const bool blank = end == pos || (end == pos + 1 && held_[pos] == '\r');
    pos = end + 1;
    if (blank) {
      emit(std::string_view{held_}.substr(start, pos - start), out);
      start = pos;
    }
  }
  held_.erase(0, start);
  scanned_ = pos - start;
  return out;
}

std::string rate_limits_rewriter::take_rest() {
  std::string rest = std::move(held_);
  held_.clear();
  scanned_ = 0;
  return rest;
}

void rate_limits_rewriter::emit(std::string_view event, std::string& out) {
  if (is_rate_limits(event)) {
    if (!inserted_) {
      out += pooled_;
      inserted_ = true;
    }
    return;
  }
  out.append(event);
  if (!inserted_ && carries_data(event)) {
    out += pooled_;
    inserted_ = true;
  }
}

} // namespace cxp::edge
