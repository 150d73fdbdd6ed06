#include "actors/upstream/sse_parser.hpp"

namespace cxp::actors {

std::vector<sse_event> sse_parser::feed(std::string_view chunk) {
  std::vector<sse_event> out;
  feed(chunk, [&out](const sse_event_view& event) {
    out.push_back({std::string{event.name}, std::string{event.data}});
    return true;
  });
  return out;
}

namespace {

/// Where the first line of `text` ends (its CR or LF), or npos. Two memchr scans: a set search
/// (`find_first_of`) tests every byte against the set one call at a time.
size_t line_end(std::string_view text) {
  const auto lf = text.find('\n');
  const auto cr = text.substr(0, lf == std::string_view::npos ? text.size() : lf).find('\r');
  return cr != std::string_view::npos ? cr : lf;
}

} // namespace

bool sse_parser::next_line(std::string_view& chunk, std::string_view& line) {
  if (partial_taken_) {
    partial_.clear();
    partial_taken_ = false;
  }
  if (skip_lf_ && !chunk.empty()) {
    skip_lf_ = false;
    if (chunk.front() == '\n') {
      chunk.remove_prefix(1);
    }
  }
  const auto end = line_end(chunk);
  if (end == std::string_view::npos) {
    if (!oversized_now_ && partial_.size() + chunk.size() + data_.size() < max_event_bytes_) {
      partial_.append(chunk);
    } else if (!chunk.empty()) {
      oversized_now_ = true;
      partial_dropped_ = true;
      partial_.clear();
    }
    chunk = {};
    return false;
  }
  line = chunk.substr(0, end);
  const bool cr = chunk[end] == '\r';
  chunk.remove_prefix(end + 1);
  if (cr) {
    if (chunk.empty()) {
      skip_lf_ = true;
    } else if (chunk.front() == '\n') {
      chunk.remove_prefix(1);
    }
  }
  if (partial_dropped_) {
    partial_dropped_ = false;
    line = ":"; // the rest of a line too long to keep: ignored like a comment
  } else if (!partial_.empty()) {
    partial_.append(line);
    line = partial_;
    partial_taken_ = true;
  }
  return true;
}

bool sse_parser::take_line(std::string_view line) {
  if (line.empty()) {
    const bool report = has_data_ && !oversized_now_;
    if (oversized_now_) {
      ++oversized_;
    }
    if (!report) {
      end_event();
    }
    return report;
  }
  if (line.front() == ':') {
    return false;
  }
  if (line.size() + data_.size() >= max_event_bytes_) {
    oversized_now_ = true;
  }
  if (oversized_now_) {
    return false;
  }
  const auto colon = line.find(':');
  const auto field = line.substr(0, colon);
  auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  // A line handed out of `partial_` lives until the next line only: what it holds is copied.
  const bool transient = partial_taken_;
  if (field == "event") {
    name_owned_ = transient;
    name_ = transient ? std::string_view{name_store_.assign(value)} : value;
  } else if (field == "data") {
    if (!has_data_) {
      data_owned_ = transient;
      data_ = transient ? std::string_view{data_store_.assign(value)} : value;
    } else {
      if (!data_owned_) {
        data_store_.assign(data_);
        data_owned_ = true;
      }
      data_store_.push_back('\n');
      data_store_.append(value);
      data_ = data_store_;
    }
    has_data_ = true;
  }
  return false;
}

void sse_parser::end_event() {
  name_ = {};
  data_ = {};
  has_data_ = false;
  name_owned_ = false;
  data_owned_ = false;
  oversized_now_ = false;
}

void sse_parser::own_current() {
  if (!name_owned_ && !name_.empty()) {
    name_ = name_store_.assign(name_);
    name_owned_ = true;
  }
  if (!data_owned_ && has_data_) {
    data_ = data_store_.assign(data_);
    data_owned_ = true;
  }
}

} // namespace cxp::actors
