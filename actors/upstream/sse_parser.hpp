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

/// An event as `sse_parser::feed` hands it to its callback: views valid during the call only.
/// They point into the fed chunk itself when the event arrived whole inside it (the usual case:
/// nothing is copied), else into the parser's buffer for the part that straddled two reads.
struct sse_event_view {
  std::string_view name;
  std::string_view data;
};

/// Incremental SSE framing (WHATWG rules: LF, CRLF or CR line ends; a blank line ends an event;
/// comment lines start with ':'). The proxy relays the upstream bytes unchanged and frames the
/// same bytes here only to learn what the stream says (first event type, rate limits, usage), so
/// framing copies nothing for an event that lies whole inside one read. Bounded: an event larger
/// than `max_event_bytes` is dropped and counted instead of buffered.
class sse_parser {
public:
  static constexpr size_t default_max_event_bytes = 8u << 20;

  explicit sse_parser(size_t max_event_bytes = default_max_event_bytes)
      : max_event_bytes_(max_event_bytes) {}

  /// Consumes `chunk` (any split of the stream) and calls `on_event(const sse_event_view&)` for
  /// each event it completes, in order, while it returns true. Returns false when `on_event`
  /// stopped it (the rest of the chunk is then not framed: the caller abandons the stream).
  template <class OnEvent>
  bool feed(std::string_view chunk, OnEvent&& on_event) {
    std::string_view line;
    while (next_line(chunk, line)) {
      if (take_line(line)) {
        const bool more = on_event(sse_event_view{name_, data_});
        end_event();
        if (!more) {
          return false;
        }
      }
    }
    own_current();
    return true;
  }

  /// The events `chunk` completes, copied (for callers that keep them).
  std::vector<sse_event> feed(std::string_view chunk);

  /// Events dropped for exceeding the size bound.
  size_t oversized_events() const { return oversized_; }

private:
  /// Takes the next complete line off `chunk` into `line` (a view into `chunk`, or into
  /// `partial_` when it started in an earlier read); false when none is left, the rest kept.
  bool next_line(std::string_view& chunk, std::string_view& line);
  /// Applies one line; true when it was the blank line ending an event worth reporting.
  bool take_line(std::string_view line);
  void end_event();
  /// Copies what the current event's views point at in the fed chunk, which is about to go.
  void own_current();

  size_t max_event_bytes_;
  std::string partial_;          ///< a line that has not ended yet
  bool partial_taken_ = false;   ///< `partial_` was handed out as a line: clear it next time
  bool partial_dropped_ = false; ///< the unfinished line was over the bound and not kept
  bool skip_lf_ = false;         ///< the last read ended with a CR: a leading LF belongs to it
  // The current event. Views point into the chunk being fed or into `name_store_`/`data_store_`.
  std::string_view name_;
  std::string_view data_;
  std::string name_store_;
  std::string data_store_;
  bool has_data_ = false;
  bool name_owned_ = false;
  bool data_owned_ = false;
  bool oversized_now_ = false;
  size_t oversized_ = 0;
};

} // namespace cxp::actors
