#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cxp::actors {

/// One server-sent event: its `event:` name (empty when absent) and its `data:` lines joined by
/// newlines.
struct sse_event {
  std::string name;
  std::string data;
};

/// Incremental SSE framing (WHATWG rules: LF, CRLF or CR line ends; a blank line ends an event;
/// comment lines start with ':'). The proxy relays the upstream bytes unchanged and feeds a copy
/// here only to learn what the stream says (first event type, rate limits, usage). Bounded: an
/// event larger than `max_event_bytes` is dropped and counted instead of buffered.
class sse_parser {
public:
  static constexpr size_t default_max_event_bytes = 8u << 20;

  explicit sse_parser(size_t max_event_bytes = default_max_event_bytes)
      : max_event_bytes_(max_event_bytes) {}

  /// Consumes `chunk` (any split of the stream) and returns the events it completed.
  std::vector<sse_event> feed(std::string_view chunk);

  /// Events dropped for exceeding the size bound.
  size_t oversized_events() const { return oversized_; }

private:
  void take_line(std::string_view line, std::vector<sse_event>& out);

  size_t max_event_bytes_;
  std::string line_;
  bool last_was_cr_ = false;
  sse_event current_;
  bool has_data_ = false;
  bool oversized_now_ = false;
  size_t oversized_ = 0;
};

} // namespace cxp::actors
