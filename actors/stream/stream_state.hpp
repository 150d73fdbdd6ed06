#pragma once

// Internals of the stream actor (stream_actor.cpp: the behaviour, attach/detach and parking;
// stream_turns.cpp: the turn lifecycle; stream_upstream.cpp: the upstream socket and its
// frames). Not an interface: only those three files include it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/pool/routing_messages.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/stream/stream_actor.hpp"
#include "domain/turn/turn_policy.hpp"

namespace cxp::actors::detail {

/// What an upstream socket reports to its stream actor (node-local: carries a closure).
struct socket_event {
  enum class kind : uint8_t { opened, open_failed, message, closed };
  kind what = kind::closed;
  uint64_t generation = 0;
  std::string text;
  unsigned status = 0;
  std::function<void()> resume;
};

using std::chrono::steady_clock;

constexpr auto lease_timeout = std::chrono::seconds{70};

int64_t millis(steady_clock::duration took);

/// The running turn: its lease, what it has relayed, and its request-log row.
struct active_turn {
  uint64_t serial = 0;
  stream_turn request;
  std::optional<lease_grant> grant;
  std::vector<std::string> tried;
  /// The session's account when the turn started (empty for a new session): the pin its
  /// leases ask for. Not the account this turn leased, so a new session can still fail over.
  std::string account_hint;
  bool awaiting_open = false; ///< the frame goes out once the socket opens
  bool visible = false;       ///< a non-prelude frame reached the client
  bool reused = false;        ///< this attempt runs on a socket an earlier turn opened
  bool reconnected = false;
  bool refreshed = false;
  bool reported = false;         ///< the current attempt's report went to the pool
  bool cancelled = false;        ///< its connection went away and a newer turn needed the stream
  bool rate_limits_sent = false; ///< the pooled `codex.rate_limits` frames went out
  std::vector<std::string> prelude;
  std::string last_error_frame; ///< an upstream error kept for when no account is left
  int32_t last_error_status = 0;
  std::optional<domain::attempt_outcome> last_outcome; ///< of the latest attempt reported
  std::string last_error_code;                         ///< of the latest failed attempt
  std::vector<domain::quota_window> quota;
  std::string plan_type;
  std::string response_id;
  steady_clock::time_point started = steady_clock::now();
  steady_clock::time_point attempt_started = steady_clock::now();
  std::string attempt_started_at;
  persistence::request_log_row log;
  std::vector<domain::routing_decision> routing; ///< each lease's decision, for the log
};

/// The stream actor as it addresses itself: its upstream socket's events, the watchdog of the
/// running turn (`tick_atom, serial`) and the expiry of a detach (`expire_atom, epoch`).
using stream_impl =
  registered_stream_actor::extend<caf::reacts_to<socket_event>, caf::reacts_to<tick_atom, uint64_t>,
                                  caf::reacts_to<expire_atom, uint64_t>>;

struct stream_state {
  const stream_deps* deps = nullptr;
  stream_tracker_actor registry;
  std::string account; ///< the account the session is served on (or its lease's, until then)
  stream_connection_actor connection;
  uint64_t connection_id = 0;
  header_list client_headers;
  uint64_t detach_epoch = 0;
  std::shared_ptr<upstream_socket> socket;
  uint64_t generation = 0;
  bool socket_open = false;
  std::string socket_account;
  std::deque<stream_turn> queue;
  std::optional<active_turn> turn;
  uint64_t next_seq = 0;
  uint64_t acked = 0;
  std::function<void()> paused_resume;
  settings_snapshot settings;
  uint64_t turn_serial = 0;
  /// The key of the latest turn: a parked socket counts against its per-key cap.
  std::string api_key_id;
  /// Parked with the registry (detached, idle, holding a socket) since park `park_epoch`.
  bool parked = false;
  uint64_t park_epoch = 0;
  /// Upstream watchdog of the running turn: the last upstream activity, the allowed silence
  /// (first-byte timeout until the first frame, then the receive timeout) and whether a check
  /// is pending (one timer per turn, re-armed for the remainder).
  steady_clock::time_point last_activity;
  std::chrono::milliseconds silence_limit{0};
  bool watchdog_armed = false;
  /// Drain requests waiting for the running and queued turns to finish.
  std::vector<caf::typed_response_promise<bool>> drained;
  static inline const char* name = "stream_actor";
};

using stream_self = caf::stateful_actor<stream_state, stream_impl::base>;

/// Whether `request` belongs to the attached connection. Turns are fenced by their
/// connection: frames and the end of a turn whose connection is gone (detached, replaced)
/// reach nobody, never the connection that came after it.
bool owned(const stream_state& st, const stream_turn& request);

// stream_actor.cpp
/// Tells the registry whether this stream is parked (detached, idle, holding a socket).
void sync_parking(stream_self* self);
void arm_expiry(stream_self* self);
void settle_drain(stream_self* self);

// stream_turns.cpp
void start_next(stream_self* self);
void lease(stream_self* self);
void begin_attempt(stream_self* self);
void refresh(stream_self* self, const domain::turn_signal& signal);
void record_attempt(active_turn& t, domain::attempt_outcome outcome, bool retried,
                    std::optional<std::string> code, std::optional<int32_t> status);
void report(stream_self* self, domain::attempt_outcome outcome,
            std::optional<time_point> exhausted_until = std::nullopt);
void relay(stream_self* self, std::string text, std::function<void()> resume);
/// Relays the held prelude frames, with the pooled `codex.rate_limits` frames after the first
/// (before the visible frame that follows when there is none).
void flush_prelude(stream_self* self);
/// Relays the pool's `codex.rate_limits` frames once per turn (README "Pooled quota"), from
/// `evidence` with what the running attempt observed counted in.
void send_rate_limits(stream_self* self, const quota_evidence& evidence);
/// An upstream error `frame` with its `headers` (the answering account's quota headers) replaced
/// by the pool's, from `evidence` and the running attempt's observations.
std::string with_pooled_headers(stream_self* self, std::string frame,
                                const quota_evidence& evidence);
void take_response_id(stream_self* self, const std::string& response_id);
/// Ends the running turn. `outcome` is recorded and reported for an attempt not yet reported
/// (nullopt: nothing is due, e.g. it was reported already or never leased).
void end_turn(stream_self* self, std::optional<domain::attempt_outcome> outcome, int32_t status,
              errc gateway_error = errc{}, std::string message = {});
/// What the turn policy needs to know about the running attempt.
domain::attempt_state attempt_state_of(const active_turn& t);
/// Acts on the turn policy's verdict for `signal`, which arrived before anything visible and
/// ends the attempt: refresh, reconnect, fail over, or give up (see stream_turns.cpp).
void settle(stream_self* self, const domain::turn_signal& signal,
            std::optional<time_point> exhausted_until = std::nullopt);
/// A failed attempt before anything visible: reports it, then leases the next account
/// (`retry`) or ends the turn with the kept upstream error (else our gateway error).
void attempt_failed(stream_self* self, const domain::turn_signal& signal,
                    std::optional<time_point> exhausted_until, bool retry);
/// Ends the running turn, whose connection is gone, at once (see stream_turns.cpp).
void cancel_turn(stream_self* self);

// stream_upstream.cpp
void open_socket(stream_self* self);
void close_socket(stream_self* self);
void note_activity(stream_self* self, bool first_byte_pending);
void on_socket_event(stream_self* self, socket_event& event);
void on_upstream_timeout(stream_self* self);

} // namespace cxp::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::detail::socket_event)
