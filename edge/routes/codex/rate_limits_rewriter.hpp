#pragma once

#include <string>
#include <string_view>

#include "domain/routing/pooled_quota.hpp"

namespace cxp::edge {

/// The SSE text of the pooled `codex.rate_limits` events of `quota` (named events, in the order
/// `domain::rate_limits_events` gives them).
std::string rate_limits_sse(const domain::pooled_quota& quota);

/// Puts the pool's `codex.rate_limits` events in place of the upstream's in a relayed SSE
/// stream: the upstream's events describe the one account that served the turn and are dropped
/// (their windows are read before, see proxy_turn::inspect); the pooled events go out right
/// after the stream's first event (`response.created`), or in place of an upstream
/// `codex.rate_limits` that comes first. Works on whole events: the bytes of an event are held
/// until its blank line (LF or CRLF line ends; the Codex backend sends LF), so an event is
/// dropped whole and everything written ends at an event boundary. Single-threaded: one per
/// stream, used by its turn.
class rate_limits_rewriter {
public:
  /// The text inserted once (`rate_limits_sse`); set before the first `feed`.
  void set_pooled(std::string pooled) { pooled_ = std::move(pooled); }

  /// The bytes to relay for `chunk`: every event it completes, rewritten. Empty when `chunk`
  /// only continues an event still held.
  std::string feed(std::string_view chunk);

  /// The held bytes of an event that has not ended (for the end of a stream), cleared.
  std::string take_rest();

private:
  void emit(std::string_view event, std::string& out);

  std::string pooled_;
  std::string held_;
  size_t scanned_ = 0; ///< bytes of `held_` already searched for the end of its event
  bool inserted_ = false;
};

} // namespace cxp::edge
