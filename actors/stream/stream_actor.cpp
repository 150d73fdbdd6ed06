#include "actors/stream/stream_actor.hpp"

#include <algorithm>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/stream/stream_state.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

namespace detail {

namespace {

std::chrono::milliseconds owner_idle(stream_self* self) {
  if (self->state.settings) {
    return self->state.settings->gateway().websocket_owner_idle_timeout;
  }
  return self->state.deps->default_owner_idle;
}

void detach(stream_self* self) {
  auto& st = self->state;
  if (st.connection) {
    self->demonitor(st.connection.address());
  }
  st.connection = nullptr;
  st.connection_id = 0;
  if (st.paused_resume) {
    std::exchange(st.paused_resume, nullptr)();
  }
  settle_drain(self);
  arm_expiry(self);
  sync_parking(self);
}

} // namespace

bool owned(const stream_state& st, const stream_turn& request) {
  return st.connection && st.connection_id == request.connection_id;
}

void arm_expiry(stream_self* self) {
  const auto epoch = ++self->state.detach_epoch;
  self->delayed_send(self, owner_idle(self), expire_atom::value, epoch);
}

/// Answers the drain requests once no turn is running or queued and the attached connection
/// has acknowledged every frame (so a node that exits next loses none of them).
void settle_drain(stream_self* self) {
  auto& st = self->state;
  if (st.drained.empty() || st.turn || !st.queue.empty()
      || (st.connection && st.acked < st.next_seq)) {
    return;
  }
  for (auto& promise : std::exchange(st.drained, {})) {
    promise.deliver(true);
  }
}

/// Run after every message: the registry caps the sockets of parked streams per key and per
/// account, so it hears of every change between parked and not.
void sync_parking(stream_self* self) {
  auto& st = self->state;
  const bool idle = !st.connection && !st.turn && st.queue.empty() && st.socket
                    && !st.socket_account.empty() && st.settings;
  if (idle == st.parked || !st.registry) {
    return;
  }
  st.parked = idle;
  if (!idle) {
    self->send(st.registry, stream_unparked{self});
    return;
  }
  stream_parked parked;
  parked.stream = self;
  parked.epoch = ++st.park_epoch;
  parked.api_key_id = st.api_key_id;
  parked.account_id = st.socket_account;
  parked.per_key_limit = st.settings->gateway().websocket_detached_per_key_limit;
  parked.per_account_limit = st.settings->gateway().websocket_detached_per_account_limit;
  self->send(st.registry, std::move(parked));
}

} // namespace detail

namespace {

using namespace detail;

stream_impl::behavior_type stream_behavior(stream_self* self, const stream_deps* deps,
                                           stream_tracker_actor registry,
                                           std::string account_hint) {
  self->state.deps = deps;
  self->state.registry = std::move(registry);
  self->state.account = std::move(account_hint);
  self->set_down_handler([self](caf::down_msg& down) {
    if (self->state.connection && down.source == self->state.connection.address()) {
      detach(self);
    }
  });
  arm_expiry(self);
  return {
    [self](stream_attach& attach) {
      auto& st = self->state;
      if (st.connection && st.connection != attach.connection) {
        self->send(st.connection, stream_closed{"replaced"});
        self->demonitor(st.connection.address());
      }
      st.connection = std::move(attach.connection);
      st.connection_id = attach.connection_id;
      st.client_headers = std::move(attach.client_headers);
      ++st.detach_epoch;
      // Frames of an earlier connection will never be acknowledged.
      st.acked = st.next_seq;
      if (st.paused_resume) {
        std::exchange(st.paused_resume, nullptr)();
      }
      self->monitor(st.connection);
      sync_parking(self);
    },
    [self](stream_detach& request) {
      if (request.connection_id == self->state.connection_id && self->state.connection) {
        detach(self);
      }
    },
    [self](stream_turn& turn) {
      auto& st = self->state;
      st.queue.push_back(std::move(turn));
      if (st.turn && !owned(st, st.turn->request) && owned(st, st.queue.back())) {
        // The running turn's client is gone and the attached one waits: end it now rather than
        // make the new turn wait for an answer nobody reads (cancel_turn starts the next).
        cancel_turn(self);
      } else {
        start_next(self);
      }
      sync_parking(self);
    },
    [self](drain_atom) -> caf::result<bool> {
      self->state.drained.push_back(self->make_response_promise<bool>());
      settle_drain(self);
      return caf::delegated<bool>{};
    },
    [self](stream_forward& forward) {
      auto& st = self->state;
      if (st.socket && st.socket_open) {
        st.socket->send(std::move(forward.frame), nullptr);
      }
    },
    [self](stream_ack& ack) {
      auto& st = self->state;
      st.acked = std::max(st.acked, ack.seq);
      if (st.paused_resume && st.next_seq - st.acked < stream_ack_window) {
        std::exchange(st.paused_resume, nullptr)();
      }
      settle_drain(self);
    },
    [self](socket_event& event) {
      on_socket_event(self, event);
      sync_parking(self);
    },
    [self](stream_evict& evict) {
      auto& st = self->state;
      if (!st.parked || evict.epoch != st.park_epoch) {
        return; // used again since the registry counted it
      }
      close_socket(self);
      st.deps->metrics.websocket_detached_closed.add({{"limit", evict.limit}}).increment();
      sync_parking(self);
    },
    [self](tick_atom, uint64_t serial) {
      auto& st = self->state;
      st.watchdog_armed = false;
      if (!st.turn || st.turn->serial != serial) {
        return;
      }
      const auto silent = steady_clock::now() - st.last_activity;
      if (silent < st.silence_limit) {
        st.watchdog_armed = true;
        self->delayed_send(
          self,
          std::chrono::duration_cast<std::chrono::milliseconds>(st.silence_limit - silent)
            + std::chrono::milliseconds{1},
          tick_atom::value, serial);
        return;
      }
      on_upstream_timeout(self);
      sync_parking(self);
    },
    [self](expire_atom, uint64_t epoch) {
      auto& st = self->state;
      if (epoch != st.detach_epoch || st.connection || st.turn || !st.queue.empty()) {
        return;
      }
      close_socket(self);
      self->quit();
    },
  };
}

} // namespace

registered_stream_actor spawn_stream_actor(caf::actor_system& system, const stream_deps& deps,
                                           stream_tracker_actor registry,
                                           std::string account_hint) {
  return system.spawn(stream_behavior, &deps, std::move(registry), std::move(account_hint));
}

} // namespace cxp::actors
