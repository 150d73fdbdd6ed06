#include "actors/stream/stream_registry.hpp"

#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/stream/detached_socket_cap.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

namespace {

struct registry_state {
  std::unordered_map<std::string, caf::actor> by_alias;
  std::unordered_map<caf::actor_addr, std::vector<std::string>> aliases_of;
  /// Receives `stream_account` and streams' `stream_alias` (the node actor that leases sessions).
  caf::actor watcher;
  /// Parked streams (detached, idle, holding an upstream socket) in LRU order, and how to reach
  /// each: its handle and park epoch, keyed by actor id.
  detached_socket_cap parked;
  std::unordered_map<uint64_t, std::pair<caf::actor, uint64_t>> parked_streams;
  static inline const char* name = "stream_registry";
};

using registry_self = caf::stateful_actor<registry_state>;

void add_alias(registry_self* self, const std::string& alias, const caf::actor& stream) {
  auto [it, inserted] = self->state.by_alias.emplace(alias, stream);
  if (!inserted) {
    if (it->second == stream) {
      return;
    }
    // The alias moved to a newer stream (e.g. a reused window id after the old one expired).
    auto& old = self->state.aliases_of[it->second.address()];
    old.erase(std::remove(old.begin(), old.end(), alias), old.end());
    it->second = stream;
  }
  self->state.aliases_of[stream.address()].push_back(alias);
}

/// Answers the number of live streams once each has finished its running and queued turns.
caf::result<int64_t> drain_streams(registry_self* self) {
  const auto streams = static_cast<int64_t>(self->state.aliases_of.size());
  if (streams == 0) {
    return int64_t{0};
  }
  auto promise = self->make_response_promise<int64_t>();
  auto pending = std::make_shared<int64_t>(streams);
  auto one_done = [promise, pending, streams]() mutable {
    if (--*pending == 0) {
      promise.deliver(streams);
    }
  };
  for (const auto& [address, aliases] : self->state.aliases_of) {
    // A stream that ends instead (its request fails) has no turn left either.
    self->request(caf::actor_cast<caf::actor>(address), caf::infinite, drain_atom::value)
      .then([one_done](bool) mutable { one_done(); },
            [one_done](caf::error&) mutable { one_done(); });
  }
  return promise;
}

/// Counts a parked stream's socket and closes the least recently parked ones beyond the caps.
void park(registry_self* self, stream_parked& parked) {
  auto& st = self->state;
  if (!st.aliases_of.count(parked.stream.address())) {
    return; // not (or no longer) one of ours
  }
  const auto id = parked.stream.id();
  st.parked_streams[id] = {parked.stream, parked.epoch};
  const auto evicted = st.parked.park(id, parked.api_key_id, parked.account_id,
                                      {parked.per_key_limit, parked.per_account_limit});
  for (const auto& eviction : evicted) {
    auto found = st.parked_streams.find(eviction.stream);
    if (found == st.parked_streams.end()) {
      continue;
    }
    self->send(found->second.first,
               stream_evict{found->second.second, std::string{to_string(eviction.cap)}});
    st.parked_streams.erase(found);
  }
}

caf::behavior registry_behavior(registry_self* self, const stream_deps* deps) {
  // Streams are not linked (one failing must not take the others down); an exit sent to the
  // registry (shutdown) is passed on to every live stream instead.
  self->set_exit_handler([self](caf::exit_msg& exit) {
    for (const auto& [stream, aliases] : self->state.aliases_of) {
      if (auto handle = caf::actor_cast<caf::actor>(stream)) {
        self->send_exit(handle, exit.reason);
      }
    }
    self->quit(exit.reason);
  });
  self->set_down_handler([self](caf::down_msg& down) {
    auto it = self->state.aliases_of.find(down.source);
    if (it == self->state.aliases_of.end()) {
      return;
    }
    for (const auto& alias : it->second) {
      auto found = self->state.by_alias.find(alias);
      if (found != self->state.by_alias.end() && found->second.address() == down.source) {
        self->state.by_alias.erase(found);
      }
    }
    self->state.aliases_of.erase(it);
    self->state.parked.unpark(down.source.id());
    self->state.parked_streams.erase(down.source.id());
  });
  return {
    [self, deps](stream_open& request) {
      caf::actor stream;
      for (const auto& alias : request.aliases) {
        if (auto it = self->state.by_alias.find(alias); it != self->state.by_alias.end()) {
          stream = it->second;
          break;
        }
      }
      const bool existing = static_cast<bool>(stream);
      if (!existing) {
        stream = spawn_stream_actor(self->system(), *deps, caf::actor_cast<caf::actor>(self),
                                    request.account_id);
        self->monitor(stream);
      }
      for (const auto& alias : request.aliases) {
        add_alias(self, alias, stream);
      }
      return stream_opened{stream, existing};
    },
    [self](stream_alias& alias) {
      if (self->state.aliases_of.count(alias.stream.address())) {
        add_alias(self, alias.alias, alias.stream);
        if (self->state.watcher) {
          self->send(self->state.watcher, std::move(alias));
        }
      }
    },
    [self](get_atom) { return static_cast<uint64_t>(self->state.aliases_of.size()); },
    [self](drain_atom) { return drain_streams(self); },
    [self](put_atom, caf::actor& watcher) { self->state.watcher = std::move(watcher); },
    [self](stream_parked& parked) { park(self, parked); },
    [self](stream_unparked& unparked) {
      self->state.parked.unpark(unparked.stream.id());
      self->state.parked_streams.erase(unparked.stream.id());
    },
    [self](stream_account& account) {
      if (self->state.watcher) {
        self->send(self->state.watcher, std::move(account));
      }
    },
  };
}

} // namespace

caf::actor spawn_stream_registry(caf::actor_system& system, const stream_deps& deps) {
  return system.spawn(registry_behavior, &deps);
}

} // namespace cxp::actors
