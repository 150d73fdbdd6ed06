#include "actors/upstream/sse_parser.hpp"

namespace cxp::actors {

std::vector<sse_event> sse_parser::feed(std::string_view chunk) {
  std::vector<sse_event> out;
  for (char c : chunk) {
    if (c == '\n' && last_was_cr_) {
      last_was_cr_ = false; // the LF of a CRLF pair: the line already ended at the CR
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      take_line(line_, out);
      line_.clear();
      continue;
    }
    if (line_.size() + current_.data.size() < max_event_bytes_) {
      line_.push_back(c);
    } else {
      oversized_now_ = true;
    }
  }
  return out;
}

void sse_parser::take_line(std::string_view line, std::vector<sse_event>& out) {
  if (line.empty()) {
    if (oversized_now_) {
      ++oversized_;
    } else if (has_data_) {
      out.push_back(std::move(current_));
    }
    current_ = {};
    has_data_ = false;
    oversized_now_ = false;
    return;
  }
  if (line.front() == ':') {
    return;
  }
  const auto colon = line.find(':');
  const auto field = line.substr(0, colon);
  auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  if (field == "event") {
    current_.name = std::string{value};
  } else if (field == "data") {
    if (has_data_) {
      current_.data.push_back('\n');
    }
    current_.data.append(value);
    has_data_ = true;
  }
}

} // namespace cxp::actors
