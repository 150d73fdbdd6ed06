#pragma once

// Internals of one proxied turn (proxy_turn.cpp: admission, leasing and starting an attempt;
// proxy_turn_relay.cpp: the prelude, event inspection, the commit and relaying with keep-alives;
// proxy_turn_endings.cpp: how an attempt ends, reports, failover and the answers sent). Not an
// interface: only those three files include it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/request_log/request_log_writer.hpp"
#include "actors/upstream/sse_parser.hpp"
#include "domain/routing/quota.hpp"
#include "domain/routing/routing_record.hpp"
#include "domain/turn/turn_policy.hpp"
#include "edge/routes/codex/proxy_events.hpp"
#include "edge/routes/codex/proxy_turn.hpp"
#include "edge/routes/codex/rate_limits_rewriter.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::edge::detail {

namespace net = boost::asio;
using domain::attempt_outcome;
using std::chrono::steady_clock;

inline int64_t millis(steady_clock::duration took) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
}

/// The failure to send when every try failed: the last relayable upstream answer (status, type,
/// body, and the code logged for it), or a gateway error when there was none.
struct failed_answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  std::string code;
};

enum class phase { leasing, awaiting_head, prelude, relaying, buffering, finished };

/// The state machine of one proxied request (see `run_proxy_turn`). Every member function runs
/// on `home_`, the client connection's io_context, which also runs the upstream call: upstream
/// callbacks arrive there directly, pool and client answers are posted to it.
class proxy_turn : public std::enable_shared_from_this<proxy_turn> {
public:
  proxy_turn(codex_runtime& runtime, turn_request request);

  void start();

private:
  void admit();

  // ---- leasing (proxy_turn.cpp) ----------------------------------------------------------------

  void request_lease();
  /// Asks the directory for the pool's actor, so later turns lease from it directly.
  void learn_pool_handle();
  void on_lease(caf::expected<actors::lease_reply> reply);
  void on_denial(const actors::lease_denial& denial);

  // ---- one attempt (proxy_turn.cpp) ------------------------------------------------------------

  void start_attempt();
  void on_head(actors::upstream_head head);
  void on_chunk(std::string chunk, std::function<void()> resume);

  // ---- prelude and relaying (proxy_turn_relay.cpp) ---------------------------------------------

  void on_prelude_chunk(std::string chunk, std::function<void()> resume);
  /// The upstream answered 200 with something that is not the expected event stream, before
  /// the client saw a byte: like any other upstream failure, the next account gets the request.
  void malformed_before_commit();
  /// Learns from one event (usage, quota, failure codes) and types it for the turn policy.
  domain::turn_signal inspect(const actors::sse_event_view& event);
  /// `inspect` for an event already relayed, whose type alone no longer matters.
  void inspect_relayed(const actors::sse_event_view& event);
  /// Whether the event may carry what `inspect` learns from (deltas never do).
  static bool worth_parsing(const actors::sse_event_view& event);
  void commit(std::function<void()> resume);
  void relay(std::string chunk, std::function<void()> resume);
  /// Relays bytes of the body: written with backpressure, or, when the upstream's body is
  /// complete, as the last bytes of the reply.
  void relay_out(std::string bytes, std::function<void()> resume);
  void write_to_client(std::string chunk, std::function<void()> resume);
  /// Keeps the last bytes sent so a keep-alive comment is only ever inserted between events.
  void remember_tail(const std::string& chunk);
  bool at_event_boundary() const;
  void arm_keepalive();

  // ---- endings (proxy_turn_endings.cpp) --------------------------------------------------------

  void on_done(std::optional<actors::upstream_failure> failure);
  /// Ends a committed reply; `tail` is relayed bytes not yet written, which go out first.
  void end_relay(std::optional<actors::upstream_failure> failure, std::string tail = {});
  void on_buffered_answer();
  /// What the turn policy needs to know about the running attempt.
  domain::attempt_state attempt_state() const;
  /// Acts on the turn policy's verdict for a signal that arrived before anything reached the
  /// client (the attempt is over unless the verdict is to hold or relay, handled by the caller).
  void settle(const domain::turn_signal& signal,
              std::optional<time_point> exhausted_until = std::nullopt);
  void refresh_and_retry(const domain::turn_signal& signal);
  /// A failed attempt before anything reached the client: reports it, then tries the next
  /// account (`retry`) or ends the turn. An answer that may be relayed (not a credential
  /// failure, not a malformed or broken 200) replaces the one kept for when no account is left.
  void attempt_failed(const domain::turn_signal& signal, std::optional<time_point> exhausted_until,
                      bool retry);
  void next_or_fail(attempt_outcome outcome, const std::string& code);
  /// Ends the turn with the kept upstream failure, else our error for `code`.
  void give_up(const std::string& code);
  void report(attempt_outcome outcome, std::optional<std::string> code = std::nullopt,
              std::optional<time_point> exhausted_until = std::nullopt, bool retried = false);
  /// Tells the granting pool how the attempt ended; the pool also ends the account's lease.
  void send_report(attempt_outcome outcome, std::optional<time_point> exhausted_until);
  void record_attempt(attempt_outcome outcome, bool retried, std::optional<std::string> code);

  // ---- answers (proxy_turn_endings.cpp) --------------------------------------------------------

  /// The pooled quota to show the client now: the pool's evidence as `evidence` carried it,
  /// with what the current attempt's answer said about its account counted in.
  domain::pooled_quota pooled_quota_now(const actors::quota_evidence& evidence) const;
  /// Adds the pooled quota headers (`request_.pooled_quota` only).
  void add_quota_headers(http::fields& fields, const actors::quota_evidence& evidence) const;
  void set_quota_headers(http::fields& fields, const domain::pooled_quota& quota) const;

  void respond_buffered(unsigned status);
  void relay_failure();
  /// The Codex usage-limit answer (codex-protocol §6.5), so the CLI shows its usual message.
  void respond_usage_limit(const actors::lease_denial& denial);
  /// A 429 of the pool or the key's caps (`body` the error), with the pooled quota headers.
  void respond_limited(http::status status, const nlohmann::json& body,
                       const actors::lease_denial& denial);
  void fail(errc code, const std::string& context);
  /// Writes the request-log row; `log_status` from `domain::request_log_status`.
  void finish(int32_t status, std::optional<std::string> error_code, std::string_view log_status);

  codex_runtime& runtime_;
  turn_request request_;
  net::io_context::executor_type home_;
  admission_ticket ticket_; ///< its place in the bulkhead, held until the turn ends
  net::steady_timer keepalive_timer_;
  phase phase_ = phase::leasing;
  actors::lease_grant grant_;
  std::vector<std::string> tried_;
  std::shared_ptr<actors::upstream_call> call_;
  actors::upstream_head upstream_head_;
  actors::sse_parser parser_;
  std::string pending_;
  std::string tail_;
  std::shared_ptr<reply_stream> stream_;
  rate_limits_rewriter rewriter_; ///< the pooled `codex.rate_limits` in the relayed stream
  std::vector<domain::quota_window> observed_quota_;
  std::string plan_type_;
  std::string stream_error_;
  domain::turn_signal terminal_; ///< the upstream's own failure event of a committed stream
  cut_reason cut_ = cut_reason::incomplete; ///< why a committed stream ended early
  int prelude_events_ = 0;                  ///< events of this attempt before the commit
  std::optional<failed_answer> last_failure_;
  bool saw_completed_ = false;
  bool body_complete_ = false; ///< the upstream's body ended with the chunk being handled
  bool refreshed_once_ = false;
  bool reconnected_ = false;
  std::optional<attempt_outcome> last_outcome_; ///< of the latest attempt reported
  bool client_gone_ = false;
  int writes_in_flight_ = 0;
  steady_clock::time_point last_write_; ///< of the latest write the client took
  bool keepalive_armed_ = false;
  int attempt_serial_ = 0;
  steady_clock::time_point attempt_started_;
  std::string attempt_started_at_;
  std::optional<int64_t> attempt_ttfb_ms_;
  persistence::request_log_row log_;
  std::vector<domain::routing_decision> routing_; ///< each lease's decision, for the log
};

} // namespace cxp::edge::detail
