#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

namespace cxp::actors {

// The protocol between a client connection (the edge's websocket session, through its
// connection actor) and a session's `stream_actor`. Everything is data (no closures, no tokens),
// announced in type_ids.cpp and inspectable, so a connection actor on another node talks to the
// owner's stream actor exactly like a local one. Between one sender and one receiver CAF keeps
// message order, which is what keeps frames in order.
//
// Flow: connection → `stream_attach`; per client frame `stream_turn` (a `response.create`) or
// `stream_forward` (anything else worth sending upstream, e.g. `response.processed`); stream →
// connection `stream_frame` per server frame, which the connection acknowledges with
// `stream_ack` once written (at most `stream_ack_window` frames are unacknowledged; beyond that
// the stream stops reading upstream); `stream_turn_done` ends each turn; `stream_detach` (or the
// connection actor going down) detaches. `stream_closed` tells an attached connection that the
// stream ended (idle expiry, shutdown) or that another connection took the session over.
// Frames and `stream_turn_done` of a turn go only to the connection that sent the turn (its
// `connection_id`) while it is attached: a later connection of the session never sees them.

/// Frames a stream sends before it waits for acknowledgements.
constexpr uint64_t stream_ack_window = 64;

struct stream_attach;
struct stream_detach;
struct stream_turn;
struct stream_forward;
struct stream_frame;
struct stream_ack;
struct stream_turn_done;
struct stream_closed;

/// A connection as its session's stream addresses it: the edge's websocket endpoint, or the
/// cluster relay that stands in for a connection on another node.
using stream_connection_actor =
  caf::typed_actor<caf::reacts_to<stream_frame>, caf::reacts_to<stream_turn_done>,
                   caf::reacts_to<stream_closed>>;

/// A session's stream as its connection addresses it: the `stream_actor` of this node, or the
/// cluster proxy that stands in for the owner node's stream actor.
using stream_actor = caf::typed_actor<caf::reacts_to<stream_attach>, caf::reacts_to<stream_detach>,
                                      caf::reacts_to<stream_turn>, caf::reacts_to<stream_forward>,
                                      caf::reacts_to<stream_ack>>;

/// What the client sent at the upgrade that the upstream socket needs: the allowlisted client
/// headers (never authorization or cookies; see `upstream_headers_for` in the edge).
struct stream_attach {
  stream_connection_actor connection;
  uint64_t connection_id = 0;
  std::vector<std::pair<std::string, std::string>> client_headers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_attach& x) {
  return f(caf::meta::type_name("stream_attach"), x.connection, x.connection_id, x.client_headers);
}

struct stream_detach {
  uint64_t connection_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_detach& x) {
  return f(caf::meta::type_name("stream_detach"), x.connection_id);
}

/// One `response.create`, already authenticated and policy-checked by the edge. Turns of a
/// stream run one at a time, in arrival order (FIFO across connections).
struct stream_turn {
  uint64_t connection_id = 0;
  uint64_t turn_id = 0;   ///< chosen by the connection; echoed in frames and the done message
  std::string frame;      ///< the JSON text sent upstream
  std::string request_id; ///< the request-log row id of this turn
  std::string pool_id;
  std::string api_key_id;
  std::string route; ///< route pattern, for the log and metrics
  std::string client_ip;
  std::string model;
  std::string session_key; ///< hashed session key (pinning); empty when none
  std::string seed;        ///< rendezvous seed (prompt-cache key or session)
  std::string alias_salt;  ///< prefix for hashing response-id aliases (pool and key)
  /// The key's caps (see key_budget.hpp); -1 = no cap.
  int64_t max_requests_per_minute = -1;
  int64_t max_tokens_per_day = -1;
  int64_t max_tokens_per_week = -1;
  std::string service_tier; ///< the frame's `service_tier`, for the request log; empty when none
  std::string client;       ///< `domain::client_label` of the upgrade's User-Agent
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_turn& x) {
  return f(caf::meta::type_name("stream_turn"), x.connection_id, x.turn_id, x.frame, x.request_id,
           x.pool_id, x.api_key_id, x.route, x.client_ip, x.model, x.session_key, x.seed,
           x.alias_salt, x.max_requests_per_minute, x.max_tokens_per_day, x.max_tokens_per_week,
           x.service_tier, x.client);
}

/// A non-turn client frame (e.g. `response.processed`), sent upstream when the socket is open.
struct stream_forward {
  uint64_t connection_id = 0;
  std::string frame;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_forward& x) {
  return f(caf::meta::type_name("stream_forward"), x.connection_id, x.frame);
}

/// One server frame, byte for byte as upstream sent it.
struct stream_frame {
  uint64_t turn_id = 0;
  uint64_t seq = 0; ///< per stream, increasing; acknowledged with stream_ack
  std::string text;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_frame& x) {
  return f(caf::meta::type_name("stream_frame"), x.turn_id, x.seq, x.text);
}

struct stream_ack {
  uint64_t seq = 0; ///< every frame up to and including seq is written
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_ack& x) {
  return f(caf::meta::type_name("stream_ack"), x.seq);
}

/// The end of a turn. When `error` is set (a `cxp::errc`, whose context is internal) the gateway
/// failed the turn itself and the connection renders the error frame; upstream errors were
/// already relayed as frames and end without `error` and with `ok` false.
struct stream_turn_done {
  uint64_t turn_id = 0;
  bool ok = false;
  caf::error error;
  std::string message; ///< vetted public message override; empty = the error table's
  std::string account_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_turn_done& x) {
  return f(caf::meta::type_name("stream_turn_done"), x.turn_id, x.ok, x.error, x.message,
           x.account_id);
}

struct stream_closed {
  std::string reason; ///< idle_expired | replaced | shutdown
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_closed& x) {
  return f(caf::meta::type_name("stream_closed"), x.reason);
}

/// Registry: find the stream of any of `aliases` (hashed session keys), else spawn one and
/// register every alias. Answers `stream_opened`.
struct stream_open {
  std::vector<std::string> aliases;
  /// The account the session's lease names (set when a node takes a session over), so a new
  /// stream continues on it; empty otherwise.
  std::string account_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_open& x) {
  return f(caf::meta::type_name("stream_open"), x.aliases, x.account_id);
}

struct stream_opened {
  stream_actor stream;
  bool existing = false; ///< an earlier connection's stream (upstream socket may be reused)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_opened& x) {
  return f(caf::meta::type_name("stream_opened"), x.stream, x.existing);
}

/// Stream → registry → the node that leases the session: the account the stream now serves
/// the session on, to record in the session's lease.
struct stream_account {
  stream_actor stream;
  std::string account_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_account& x) {
  return f(caf::meta::type_name("stream_account"), x.stream, x.account_id);
}

/// Stream → its registry (node-local): the stream is detached and idle (no client attached, no
/// turn running or queued) and keeps an upstream socket for `api_key_id` on `account_id`. The
/// registry counts it against the caps it carries (read from the stream's latest settings
/// snapshot) and answers `stream_evict` to the least recently parked streams beyond them.
struct stream_parked {
  stream_actor stream;
  uint64_t epoch = 0; ///< the stream's park count; echoed by `stream_evict`
  std::string api_key_id;
  std::string account_id;
  int64_t per_key_limit = 0;     ///< `gateway.websocket_detached_per_key_limit`
  int64_t per_account_limit = 0; ///< `gateway.websocket_detached_per_account_limit`
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_parked& x) {
  return f(caf::meta::type_name("stream_parked"), x.stream, x.epoch, x.api_key_id, x.account_id,
           x.per_key_limit, x.per_account_limit);
}

/// Stream → its registry: no longer parked (a client attached, a turn started, the socket ended).
struct stream_unparked {
  stream_actor stream;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_unparked& x) {
  return f(caf::meta::type_name("stream_unparked"), x.stream);
}

/// Registry → stream: close the upstream socket kept since park `epoch`; a cap (`limit`:
/// `api_key` or `account`) is exceeded. Ignored when the stream is no longer parked since then.
struct stream_evict {
  uint64_t epoch = 0;
  std::string limit;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_evict& x) {
  return f(caf::meta::type_name("stream_evict"), x.epoch, x.limit);
}

/// Registry: one more alias for a live stream (e.g. a `previous_response_id`).
struct stream_alias {
  std::string alias;
  stream_actor stream;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_alias& x) {
  return f(caf::meta::type_name("stream_alias"), x.alias, x.stream);
}

} // namespace cxp::actors
