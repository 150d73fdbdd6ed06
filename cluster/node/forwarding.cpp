#include "cluster/node/forwarding.hpp"

#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "cluster/envelope/cluster_envelope.hpp"
#include "cluster/node/node_actor.hpp"
#include "common/log.hpp"

namespace cxp::cluster {

namespace {

template <class Self>
caf::actor me(Self* self) {
  return caf::actor_cast<caf::actor>(self);
}

struct proxy_state {
  caf::actor relay;
  caf::actor connection;
  uint64_t connection_id = 0;
  std::vector<cluster_envelope> pending; ///< sealed before the relay was known
  static inline const char* name = "stream_proxy";
};

using proxy_self = caf::stateful_actor<proxy_state>;

void to_relay(proxy_self* self, cluster_envelope envelope) {
  if (!self->state.relay) {
    self->state.pending.push_back(std::move(envelope));
    return;
  }
  self->send(self->state.relay, std::move(envelope));
}

void close_connection(proxy_self* self, const char* reason) {
  if (self->state.connection) {
    self->send(self->state.connection, actors::stream_closed{reason});
  }
  self->quit();
}

/// Passes a relay envelope of body type T to the connection; false when it is not a T.
template <class T>
bool deliver_as(proxy_self* self, const cluster_envelope& envelope) {
  if (envelope.kind != envelope_kind<T>::value) {
    return false;
  }
  auto body = unseal<T>(self->system(), envelope);
  if (!body) {
    log::warn("cluster", "forwarded frame refused", {{"detail", context_of(body.error())}});
    close_connection(self, "protocol_mismatch");
    return true;
  }
  if (self->state.connection) {
    self->send(self->state.connection, std::move(*body));
  }
  return true;
}

caf::behavior proxy_behavior(proxy_self* self) {
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.source == self->state.relay.address()) {
      close_connection(self, "owner_lost");
    } else if (down.source == self->state.connection.address()) {
      to_relay(self,
               seal(self->system(), actors::stream_detach{self->state.connection_id}, 0, me(self)));
      self->quit();
    }
  });
  return {
    [self](relay_atom, caf::actor& relay) {
      self->state.relay = relay;
      self->monitor(relay);
      for (auto& envelope : self->state.pending) {
        self->send(relay, std::move(envelope));
      }
      self->state.pending.clear();
    },
    [self](actors::stream_attach& attach) {
      if (self->state.connection && self->state.connection != attach.connection) {
        self->demonitor(self->state.connection);
      }
      self->state.connection = attach.connection;
      self->state.connection_id = attach.connection_id;
      self->monitor(attach.connection);
      to_relay(self, seal(self->system(),
                          remote_attach{attach.connection_id, std::move(attach.client_headers)}, 0,
                          self));
    },
    [self](actors::stream_turn& turn) { to_relay(self, seal(self->system(), turn, 0, me(self))); },
    [self](actors::stream_forward& forward) {
      to_relay(self, seal(self->system(), forward, 0, me(self)));
    },
    [self](actors::stream_ack& ack) { to_relay(self, seal(self->system(), ack, 0, me(self))); },
    [self](actors::stream_detach& detach) {
      to_relay(self, seal(self->system(), detach, 0, me(self)));
    },
    [self](cluster_envelope& envelope) {
      if (deliver_as<actors::stream_frame>(self, envelope)
          || deliver_as<actors::stream_turn_done>(self, envelope)
          || deliver_as<actors::stream_closed>(self, envelope)) {
        return;
      }
      log::warn("cluster", "unknown forwarded frame",
                {{"kind", envelope.kind}, {"version", envelope.version}});
      close_connection(self, "protocol_mismatch");
    },
  };
}

struct relay_state {
  caf::actor stream;
  caf::actor proxy;
  uint64_t connection_id = 0;
  static inline const char* name = "stream_relay";
};

using relay_self = caf::stateful_actor<relay_state>;

/// Passes a proxy envelope of body type T to the stream; false when it is not a T.
template <class T>
bool forward_as(relay_self* self, const cluster_envelope& envelope) {
  if (envelope.kind != envelope_kind<T>::value) {
    return false;
  }
  auto body = unseal<T>(self->system(), envelope);
  if (!body) {
    log::warn("cluster", "forwarded frame refused", {{"detail", context_of(body.error())}});
    self->send(self->state.proxy,
               seal(self->system(), actors::stream_closed{"protocol_mismatch"}, 0, me(self)));
    return true;
  }
  self->send(self->state.stream, std::move(*body));
  return true;
}

caf::behavior relay_behavior(relay_self* self, caf::actor stream, caf::actor proxy) {
  self->state.stream = std::move(stream);
  self->state.proxy = std::move(proxy);
  self->monitor(self->state.stream);
  self->monitor(self->state.proxy);
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.source == self->state.proxy.address()) {
      self->send(self->state.stream, actors::stream_detach{self->state.connection_id});
    } else {
      self->send(self->state.proxy,
                 seal(self->system(), actors::stream_closed{"owner_gone"}, 0, me(self)));
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
          self->send(self->state.proxy,
                     seal(self->system(), actors::stream_closed{"protocol_mismatch"}, 0, me(self)));
          return;
        }
        self->state.connection_id = attach->connection_id;
        self->send(self->state.stream,
                   actors::stream_attach{caf::actor_cast<caf::actor>(self), attach->connection_id,
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
      self->send(self->state.proxy,
                 seal(self->system(), actors::stream_closed{"protocol_mismatch"}, 0, me(self)));
    },
    [self](actors::stream_frame& frame) {
      self->send(self->state.proxy, seal(self->system(), frame, 0, me(self)));
    },
    [self](actors::stream_turn_done& done) {
      self->send(self->state.proxy, seal(self->system(), done, 0, me(self)));
    },
    [self](actors::stream_closed& closed) {
      self->send(self->state.proxy, seal(self->system(), closed, 0, me(self)));
    },
  };
}

} // namespace

caf::actor spawn_stream_proxy(caf::actor_system& system) {
  return system.spawn(proxy_behavior);
}

caf::actor spawn_stream_relay(caf::actor_system& system, caf::actor stream, caf::actor proxy) {
  return system.spawn(relay_behavior, std::move(stream), std::move(proxy));
}

} // namespace cxp::cluster
