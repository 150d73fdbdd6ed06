#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fake_upstream/fake_websocket.hpp"

namespace cxp::test {

/// Scripted behaviour and credentials of one fake ChatGPT account. Every field can be set from
/// the C++ API (`fake_upstream::set_account`) or from JSON (`POST /__control/accounts`, the
/// `--accounts` file) using the same key names.
struct account_script {
  std::string account_id;    ///< expected `chatgpt-account-id`
  std::string access_token;  ///< expected bearer; replaced by a new JWT on every refresh
  std::string refresh_token; ///< the one currently valid (single-use, rotating)
  std::string plan_type = "plus";
  std::string reply_text = "hello from fake upstream";

  int usage_limit_after = -1;         ///< served turns before 429 usage_limit_reached; -1 = never
  int status_5xx = 0;                 ///< answer every turn with this status when non-zero
  bool close_before_headers = false;  ///< drop the connection before any response byte
  int abrupt_close_after_events = -1; ///< drop the connection after K SSE events; -1 = never
  int delay_first_byte_ms = 0;        ///< wait this long before the first response byte
  bool response_failed_first = false; ///< first SSE event is `response.failed` (server_error)
  bool access_token_expired = false;  ///< 401 token_expired on the backend until refreshed
  bool refresh_revoked = false;       ///< refresh answers 401 `refresh_token_invalidated`
  int refresh_delay_ms = 0;           ///< the token endpoint answers this account this late
  std::vector<std::string> hidden_models; ///< left out of this account's model catalog
  int ws_event_interval_ms = 0;           ///< websocket turns: wait this long between server frames
  // Malformed answers and credential faults (HTTP turns):
  int stall_after_events = -1;      ///< after K SSE events, hold the connection open, silent
  int garbage_after_events = -1;    ///< after K SSE events, a later write with a non-JSON event
  bool garbage_sse = false;         ///< 200 text/event-stream whose only event is not JSON
  bool json_as_sse = false;         ///< 200 `content-type: text/event-stream`, body a JSON object
  bool json_instead_of_sse = false; ///< 200 application/json (a Responses object) to a stream
  bool always_unauthorized = false; ///< 401 token_expired to every turn, refreshed or not
  bool refresh_down = false;        ///< the token endpoint drops this account's refreshes
  /// Answer turns with this status and error code `token_expired` (an auth error named by its
  /// code, not a 401) until the next refresh; 0 = never. Websocket turns get it as an error frame.
  int auth_error_status = 0;
  /// Answer every turn with this 4xx status and `invalid_request_error` (the request's own
  /// fault); 0 = never.
  int reject_status = 0;
  /// A model whose own limit family (`codex_other`, named after the model) is used up: its turns
  /// answer 429 usage_limit_reached with `x-codex-active-limit: codex_other`; other models serve.
  std::string limited_model;
  /// The `usage` object of every completed HTTP turn (e.g. more than 272,000 input tokens for a
  /// long-context price); null = 10 input tokens (2 cached), 3 output (1 reasoning).
  nlohmann::json usage;

  /// Turns per primary (300 min) window when `usage_limit_after` is -1; large by default so
  /// benchmarks do not run into it.
  int primary_limit = 100000;
  int secondary_limit = 1000000;  ///< turns per secondary (10080 min) window
  int64_t primary_reset_at = 0;   ///< unix s; 0 = now + 5 h at registration
  int64_t secondary_reset_at = 0; ///< unix s; 0 = now + 7 d at registration
};

/// Reads an `account_script` from JSON (unknown keys ignored, missing keys keep defaults).
void from_json(const nlohmann::json& j, account_script& script);
/// Writes an `account_script` (tokens included: it is test data).
void to_json(nlohmann::json& j, const account_script& script);

/// One request as received; the Authorization value is reduced to `<scheme> sha256:<12 hex>`.
struct recorded_request {
  std::string method;
  std::string target;                         ///< path with query string
  std::map<std::string, std::string> headers; ///< lower-case names
  std::string body;
};

/// Live counters of one account, for assertions.
struct account_counters {
  int turns_served = 0;  ///< successful 200 turns (they consume quota)
  int turn_requests = 0; ///< every `/responses` request that passed auth
  int refresh_calls = 0; ///< every `POST /oauth/token` naming one of its tokens
  int generation = 0;    ///< access token generation (bumped by each refresh)
};

/// A fake ChatGPT Codex backend + OAuth token endpoint on 127.0.0.1 for tests and benchmarks
/// (protocol: shared/docs/codex-protocol.md §13/14). Owns its io_context threads.
class fake_upstream {
public:
  /// `port` 0 binds an ephemeral port.
  explicit fake_upstream(uint16_t port = 0, size_t io_threads = 2);
  ~fake_upstream();
  fake_upstream(const fake_upstream&) = delete;
  fake_upstream& operator=(const fake_upstream&) = delete;

  /// Binds and starts serving. Returns an error message when the port cannot be bound.
  std::optional<std::string> start();

  /// Stops the threads and closes the listener (also done by the destructor).
  void stop();

  /// The bound port (valid after a successful `start`).
  uint16_t port() const;

  /// Adds or replaces (by `account_id`) an account and resets its counters.
  void set_account(const account_script& script);

  /// The current script of an account (tokens reflect refresh rotation).
  std::optional<account_script> account(const std::string& account_id) const;

  /// Counters of an account (zeroes when unknown).
  account_counters counters(const std::string& account_id) const;

  /// Every request received so far (control routes excepted), in arrival order; bounded at
  /// 100000 entries, beyond which the oldest half is dropped.
  std::vector<recorded_request> recorded() const;

  /// Every upstream websocket connection so far (also `GET /__control/websockets`), with the
  /// turns that arrived on each.
  std::vector<ws_connection_record> websocket_connections() const;

  /// Closes every open websocket (also `POST /__control/websockets/close`).
  void close_websockets();

  /// Forgets the recorded requests.
  void clear_recorded();

  /// Implementation state shared with the sessions.
  struct state;

private:
  std::shared_ptr<state> state_;
};

/// How long the access tokens the fake issues live: ten days, like ChatGPT's, so the token
/// refresh sweep leaves them alone unless a test shortens them.
inline constexpr int64_t fake_token_lifetime_s = 10 * 24 * 3600;

/// An unsigned JWT (`alg: none`) for `account_id` as the fake issues it (§14.1).
std::string make_fake_jwt(const std::string& account_id, const std::string& plan_type,
                          int generation, int64_t exp);

} // namespace cxp::test
