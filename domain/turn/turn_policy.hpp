#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/turn/attempt_outcome.hpp"

namespace cxp::domain {

/// What kind of thing the upstream did during one attempt.
enum class signal_kind : uint8_t {
  event,             ///< a stream event: an SSE event or a websocket frame (`error` included)
  answer,            ///< a buffered answer: a non-stream HTTP reply or a refused websocket upgrade
  malformed,         ///< something that breaks the protocol (a non-SSE 200 to a stream, bad data)
  transport_failure, ///< connect failure, refused upgrade (with its status), drop, timeout
};

/// One upstream signal, as both transports see it. The same fields mean the same thing whether
/// they came from an SSE `event:`, a websocket frame's `type`, or an HTTP status line.
struct turn_signal {
  signal_kind kind = signal_kind::event;
  std::string type;        ///< an event's type ("" for other kinds)
  int32_t status = 0;      ///< HTTP status of an answer or refused upgrade, `status` of an error
                           ///< event, else 0
  std::string code;        ///< error code (`error.code`, else `error.type`, or
                           ///< `response.error.code`); for transport failures, the failure name
  std::string response_id; ///< `response.id` of response.* events
};

/// Reads an event from its parsed JSON (an SSE event's data or a websocket frame); anything not
/// an object yields an empty type. A `response.failed` without a code gets `server_error`.
turn_signal read_upstream_frame(const nlohmann::json& parsed);

/// A buffered answer: `status` and the error code of its JSON `body` (`error.code`, else
/// `error.type`; empty when the body is not such an object).
turn_signal read_upstream_answer(int32_t status, const nlohmann::json& body);

/// The `headers` object of a websocket error frame as HTTP headers (lower-case names, values as
/// text); empty when the frame has none.
std::map<std::string, std::string> frame_headers(const nlohmann::json& frame);

/// What the attempt has done so far.
struct attempt_state {
  bool visible = false;         ///< something the client shows was sent: never retry after
  bool refreshed = false;       ///< this account's token was already refreshed for this turn
  bool reconnected = false;     ///< this attempt already opened a replacement connection
  bool failover_allowed = true; ///< another account may take the turn (false: compact, pinned)
  bool reused = false;          ///< the attempt runs on a connection an earlier turn opened
};

/// What the transport does with a signal.
enum class turn_verdict : uint8_t {
  hold,          ///< a prelude event before anything visible: keep it back for now
  relay,         ///< relay it (and anything held) to the client
  completed,     ///< relay it; the turn succeeded
  failed,        ///< the turn ends without success (relayed, or our error when nothing to relay)
  refresh_token, ///< auth error before visible output: refresh once, retry on the same account
  reconnect,     ///< connection limit before visible output: new connection, same lease
  fail_over,     ///< usage limit, 429, 5xx or transport failure before visible output: next
                 ///< account
  reject,        ///< another 4xx: the request's own fault, relayed as it came, never retried
};

std::string_view to_string(turn_verdict verdict);

/// The one decision table of a turn, for HTTP/SSE and websockets alike (codex-notes §6.3).
/// Auth errors (a 401, or a code in `is_auth_error_code`) refresh once, then fail over;
/// `websocket_connection_limit_reached`, and a reused connection that broke, reconnect once;
/// 429, 5xx, usage-limit and retryable
/// codes, malformed answers and transport failures fail over; other 4xx are rejected;
/// `response.created`, `response.in_progress` and `codex.rate_limits` are held until the first
/// visible event. Nothing is retried once something visible reached the client, and a failover
/// that is not allowed becomes `failed`.
turn_verdict judge(const turn_signal& signal, const attempt_state& state);

/// How an attempt that ended on `signal` counts (for the pool, the rows and the metrics).
/// Non-terminal events count as `succeeded`.
attempt_outcome outcome_of(const turn_signal& signal);

/// The error code an attempt row records for `signal`: the quota or event code as sent,
/// `upstream_<status>` for other answers, `upstream_malformed_answer`, or the failure name.
std::string attempt_error_code(const turn_signal& signal);

/// `invalid_api_key`, `invalid_authentication`, `token_expired`, `account_mismatch`.
bool is_auth_error_code(std::string_view code);
/// `usage_limit_reached`, `rate_limit_exceeded`, `insufficient_quota`.
bool is_quota_code(std::string_view code);
/// Failure codes another account may well not have (`server_error`, `overloaded_error`, …).
bool is_retryable_code(std::string_view code);

} // namespace cxp::domain
