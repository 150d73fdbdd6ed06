#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cxp::domain {

/// What the stream actor needs to know about one upstream websocket frame.
struct upstream_frame {
  std::string type;        ///< the event's `type` ("" when not a JSON object)
  int32_t status = 0;      ///< `status` (or `status_code`) of an `error` frame
  std::string code;        ///< `error.code`, else `error.type`, of an `error` frame
  std::string response_id; ///< `response.id` of response.* events
  bool quota = false;      ///< an error that means the account's usage limit
};

/// Reads the fields above from a parsed frame (anything not an object yields an empty type).
upstream_frame read_upstream_frame(const nlohmann::json& parsed);

/// The `headers` object of a websocket error frame as HTTP headers (lower-case names, values as
/// text); empty when the frame has none.
std::map<std::string, std::string> frame_headers(const nlohmann::json& frame);

/// What to do with a frame of the running turn.
enum class frame_verdict : uint8_t {
  hold,          ///< a prelude event before anything visible: keep it back for now
  relay,         ///< relay it (and the held prelude) to the client
  completed,     ///< relay it; the turn succeeded
  failed,        ///< relay it; the turn ended without success
  refresh_token, ///< upstream auth error before visible output: refresh, reconnect, resend
  reconnect,     ///< connection limit before visible output: new socket, resend
  fail_over,     ///< usage limit or upstream failure before visible output: next account
};

/// The decision for `frame` (codex-notes §6.3). Auth errors (401, `invalid_api_key`,
/// `invalid_authentication`, `token_expired`, `account_mismatch`) refresh once;
/// `websocket_connection_limit_reached` reconnects once; 429, 5xx and usage-limit codes fail
/// over; `response.created`, `response.in_progress` and `codex.rate_limits` are held until the
/// first visible frame. Nothing is retried once something visible reached the client.
frame_verdict judge_frame(const upstream_frame& frame, bool visible, bool refreshed,
                          bool reconnected);

} // namespace cxp::domain
