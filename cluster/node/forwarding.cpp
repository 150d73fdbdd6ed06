#include "cluster/node/forwarding.hpp"

#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/type_ids.hpp"
#include "cluster/envelope/cluster_envelope.hpp"
#include "common/log.hpp"

namespace cxp::cluster {

namespace {

constexpr auto reopen_timeout = std::chrono::seconds{10};

struct proxy_state {
  std::vector<std::string> aliases; ///< the session's hashed keys
  actors::stream_opener_actor node; ///< this node's node actor, to re-open a lost session
  forwarding_peer_actor relay;
  actors::stream_connection_actor connection;
  uint64_t connection_id = 0;
  std::vector<std::pair<std::string, std::string>> client_headers;
  std::vector<cluster_envelope> pending; ///< sealed before the relay was known
  std::optional<uint64_t> in_flight;     ///< a turn the relay has not finished
  actors::stream_actor fallback;         ///< the stream serving the session after a loss
  bool lost = false;                     ///< the owner went away; the next turn re-opens
  bool reopening = false;
  std::vector<actors::stream_turn> waiting; ///< turns that arrived while re-opening
  static inline const char* name = "stream_proxy";
};

using proxy_self = caf::stateful_actor<proxy_state, stream_proxy_actor::base>;

void to_relay(proxy_self* self, cluster_envelope envelope) {
  if (!self->state.relay) {
    self->state.pending.push_back(std::move(envelope));
    return;
  }
  self->send(self->state.relay, std::move(envelope));
}

void fail_turn(proxy_self* self, uint64_t turn_id, const caf::error& error) {
  if (self->state.connection) {
    self->send(self->state.connection,
               actors::stream_turn_done{turn_id, false, error, std::string{}, std::string{}});
  }
}

/// The owner is gone: the turn it was running fails (the client retries), later turns re-open
/// the session through the node actor (after the lease expired, this node takes it over).
void owner_lost(proxy_self* self) {
  self->state.relay = nullptr;
  self->state.fallback = nullptr;
  self->state.lost = true;
  if (auto turn = std::exchange(self->state.in_flight, std::nullopt)) {
    fail_turn(self, *turn, make_error(errc::owner_unavailable, "owner node lost mid-turn"));
  }
}

/// The owner speaks another protocol version: nothing more is decoded from it; the turn in flight
/// fails with `cluster_protocol_mismatch` (a clean error frame), and a later turn re-opens the
/// session (refused the same way until the versions agree or the lease moves).
void protocol_mismatch(proxy_self* self, const caf::error& error) {
  log::warn("cluster", "forwarded frame refused", {{"detail", context_of(error)}});
  if (self->state.relay) {
    self->demonitor(self->state.relay.address());
  }
  self->state.relay = nullptr;
  self->state.fallback = nullptr;
  self->state.lost = true;
  if (auto turn = std::exchange(self->state.in_flight, std::nullopt)) {
    fail_turn(self, *turn, error);
  }
}

void reopen(proxy_self* self, actors::stream_turn turn) {
  self->state.waiting.push_back(std::move(turn));
  if (self->state.reopening) {
    return;
  }
  self->state.reopening = true;
  self->request(self->state.node, reopen_timeout, actors::stream_open{self->state.aliases, {}})
    .then(
      [self](actors::stream_opened& opened) {
        self->state.reopening = false;
        self->state.lost = false;
        self->state.fallback = opened.stream;
        self->monitor(opened.stream);
        self->send(opened.stream,
                   actors::stream_attach{self->state.connection, self->state.connection_id,
                                         self->state.client_headers});
        for (auto& waiting : self->state.waiting) {
          self->send(opened.stream, std::move(waiting));
        }
        self->state.waiting.clear();
      },
      [self](caf::error& error) {
        self->state.reopening = false;
        for (const auto& waiting : self->state.waiting) {
          fail_turn(self, waiting.turn_id, error);
        }
        self->state.waiting.clear();
      });
}

/// Passes a relay envelope of body type T to the connection; false when it is not a T.
template <class T>
bool deliver_as(proxy_self* self, const cluster_envelope& envelope) {
  if (envelope.kind != envelope_kind<T>::value) {
    return false;
  }
  auto body = unseal<T>(self->system(), envelope);
  if (!body) {
    protocol_mismatch(self, body.error());
    return true;
  }
  if constexpr (std::is_same_v<T, actors::stream_closed>) {
    if (body->reason == "protocol_mismatch") {
      protocol_mismatch(self, make_error(errc::cluster_protocol_mismatch, "owner refused a frame"));
      return true;
    }
  }
  if constexpr (std::is_same_v<T, actors::stream_turn_done>) {
    if (self->state.in_flight == body->turn_id) {
      self->state.in_flight.reset();
    }
  }
  if (self->state.connection) {
    self->send(self->state.connection, std::move(*body));
  }
  return true;
}

/// Sends a connection message to wherever the session lives now.
template <class T>
void pass_on(proxy_self* self, T message) {
  if (self->state.fallback) {
    self->send(self->state.fallback, std::move(message));
  } else if (!self->state.lost) {
    to_relay(self, seal(self->system(), message, 0, self));
  }
}

stream_proxy_actor::behavior_type proxy_behavior(proxy_self* self, actors::stream_opener_actor node,
                                                 std::vector<std::string> aliases) {
  self->state.node = std::move(node);
  self->state.aliases = std::move(aliases);
  self->set_down_handler([self](caf::down_msg& down) {
    if (self->state.relay && down.source == self->state.relay.address()) {
      owner_lost(self);
    } else if (self->state.fallback && down.source == self->state.fallback.address()) {
      self->state.fallback = nullptr;
      self->state.lost = true;
    } else if (self->state.connection && down.source == self->state.connection.address()) {
      pass_on(self, actors::stream_detach{self->state.connection_id});
      self->quit();
    }
  });
  return {
    [self](actors::relay_atom, forwarding_peer_actor& relay) {
      self->state.relay = relay;
      self->monitor(relay);
      for (auto& envelope : self->state.pending) {
        self->send(relay, std::move(envelope));
      }
      self->state.pending.clear();
    },
    [self](actors::stream_attach& attach) {
      if (self->state.connection && self->state.connection != attach.connection) {
        self->demonitor(self->state.connection.address());
      }
      self->state.connection = attach.connection;
      self->state.connection_id = attach.connection_id;
      self->state.client_headers = attach.client_headers;
      self->monitor(attach.connection);
      if (self->state.fallback) {
        self->send(self->state.fallback, std::move(attach));
      } else if (!self->state.lost) {
        to_relay(self, seal(self->system(),
                            remote_attach{attach.connection_id, std::move(attach.client_headers)},
                            0, self));
      }
    },
    [self](actors::stream_turn& turn) {
      if (self->state.fallback) {
        self->send(self->state.fallback, std::move(turn));
      } else if (self->state.lost) {
        reopen(self, std::move(turn));
      } else {
        self->state.in_flight = turn.turn_id;
        to_relay(self, seal(self->system(), turn, 0, self));
      }
    },
    [self](actors::stream_forward& forward) { pass_on(self, std::move(forward)); },
    [self](actors::stream_ack& ack) { pass_on(self, ack); },
    [self](actors::stream_detach& detach) { pass_on(self, detach); },
    [self](cluster_envelope& envelope) {
      if (deliver_as<actors::stream_frame>(self, envelope)
          || deliver_as<actors::stream_turn_done>(self, envelope)
          || deliver_as<actors::stream_closed>(self, envelope)) {
        return;
      }
      protocol_mismatch(self, make_error(errc::cluster_protocol_mismatch,
                                         "unknown forwarded frame " + envelope.kind));
    },
  };
}

struct relay_state {
  uint64_t connection_id = 0;
  actors::stream_actor stream;
  forwarding_peer_actor proxy;
  static inline const char* name = "stream_relay";
};

using relay_self = caf::stateful_actor<relay_state, stream_relay_actor::base>;

/// Tells the proxy that this relay cannot take what it sent (the proxy stops forwarding).
void refuse(relay_self* self) {
  self->send(self->state.proxy,
             seal(self->system(), actors::stream_closed{"protocol_mismatch"}, 0, self));
}

/// Passes a proxy envelope of body type T to the stream; false when it is not a T.
template <class T>
bool forward_as(relay_self* self, const cluster_envelope& envelope) {
  if (envelope.kind != envelope_kind<T>::value) {
    return false;
  }
  auto body = unseal<T>(self->system(), envelope);
  if (!body) {
    log::warn("cluster", "forwarded frame refused", {{"detail", context_of(body.error())}});
    refuse(self);
    return true;
  }
  self->send(self->state.stream, std::move(*body));
  return true;
}

stream_relay_actor::behavior_type relay_behavior(relay_self* self, actors::stream_actor stream,
                                                 forwarding_peer_actor proxy) {
  self->state.stream = std::move(stream);
  self->state.proxy = std::move(proxy);
  self->monitor(self->state.stream);
  self->monitor(self->state.proxy);
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.source == self->state.proxy.address()) {
      self->send(self->state.stream, actors::stream_detach{self->state.connection_id});
    } else {
      self->send(self->state.proxy,
                 seal(self->system(), actors::stream_closed{"owner_gone"}, 0, self));
    }
    self->quit();
  });
  return {
    [self](cluster_envelope& envelope) {
      if (envelope.kind == envelope_kind<remote_attach>::value) {
        auto attach = unseal<remote_attach>(self->system(), envelope);
        if (!attach) {
          log::warn("cluster", "forwarded attach refused",
                    {{"detail", context_of(attach.error())}});
          return refuse(self);
        }
        self->state.connection_id = attach->connection_id;
        self->send(self->state.stream, actors::stream_attach{self, attach->connection_id,
                                                             std::move(attach->client_headers)});
        return;
      }
      if (forward_as<actors::stream_turn>(self, envelope)
          || forward_as<actors::stream_forward>(self, envelope)
          || forward_as<actors::stream_ack>(self, envelope)
          || forward_as<actors::stream_detach>(self, envelope)) {
        return;
      }
      log::warn("cluster", "unknown forwarded frame",
                {{"kind", envelope.kind}, {"version", envelope.version}});
      refuse(self);
    },
    [self](actors::stream_frame& frame) {
      self->send(self->state.proxy, seal(self->system(), frame, 0, self));
    },
    [self](actors::stream_turn_done& done) {
      self->send(self->state.proxy, seal(self->system(), done, 0, self));
    },
    [self](actors::stream_closed& closed) {
      self->send(self->state.proxy, seal(self->system(), closed, 0, self));
    },
  };
}

} // namespace

stream_proxy_actor spawn_stream_proxy(caf::actor_system& system, actors::stream_opener_actor node,
                                      std::vector<std::string> aliases) {
  // Hidden: a forwarding that outlives its connection at shutdown must not hold the system up.
  return system.spawn<caf::hidden>(proxy_behavior, std::move(node), std::move(aliases));
}

stream_relay_actor spawn_stream_relay(caf::actor_system& system, actors::stream_actor stream,
                                      forwarding_peer_actor proxy) {
  return system.spawn<caf::hidden>(relay_behavior, std::move(stream), std::move(proxy));
}

} // namespace cxp::cluster
