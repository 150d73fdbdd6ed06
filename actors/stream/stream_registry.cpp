#include "actors/stream/stream_registry.hpp"

#include <algorithm>
#include <unordered_map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/stream/detached_socket_cap.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

namespace {

/// A stream this registry spawned and the aliases it is registered under.
struct live_stream {
  registered_stream_actor handle;
  std::vector<std::string> aliases;
};

/// A parked stream: how to reach it, and the park it was counted for.
struct parked_stream {
  registered_stream_actor handle;
  uint64_t epoch = 0;
};

struct registry_state {
  std::unordered_map<std::string, registered_stream_actor> by_alias;
  std::unordered_map<caf::actor_addr, live_stream> streams;
  /// Receives `stream_account` and streams' `stream_alias` (the node actor that leases sessions).
  stream_watcher_actor watcher;
  /// Parked streams (detached, idle, holding an upstream socket) in LRU order, and how to reach
  /// each, keyed by actor id.
  detached_socket_cap parked;
  std::unordered_map<uint64_t, parked_stream> parked_streams;
  static inline const char* name = "stream_registry";
};

using registry_self = caf::stateful_actor<registry_state, stream_registry_actor::base>;

void add_alias(registry_self* self, const std::string& alias,
               const registered_stream_actor& stream) {
  auto& st = self->state;
  auto [it, inserted] = st.by_alias.emplace(alias, stream);
  if (!inserted) {
    if (it->second == stream) {
      return;
    }
    // The alias moved to a newer stream (e.g. a reused window id after the old one expired).
    if (auto old = st.streams.find(it->second.address()); old != st.streams.end()) {
      auto& aliases = old->second.aliases;
      aliases.erase(std::remove(aliases.begin(), aliases.end(), alias), aliases.end());
    }
    it->second = stream;
  }
  st.streams[stream.address()].aliases.push_back(alias);
}

/// Answers the number of live streams once each has finished its running and queued turns.
caf::result<int64_t> drain_streams(registry_self* self) {
  const auto streams = static_cast<int64_t>(self->state.streams.size());
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
  for (const auto& [address, stream] : self->state.streams) {
    // A stream that ends instead (its request fails) has no turn left either.
    self->request(stream.handle, caf::infinite, drain_atom::value)
      .then([one_done](bool) mutable { one_done(); },
            [one_done](caf::error&) mutable { one_done(); });
  }
  return promise;
}

/// Counts a parked stream's socket and closes the least recently parked ones beyond the caps.
void park(registry_self* self, const stream_parked& parked) {
  auto& st = self->state;
  auto stream = st.streams.find(parked.stream.address());
  if (stream == st.streams.end()) {
    return; // not (or no longer) one of ours
  }
  const auto id = parked.stream.id();
  st.parked_streams[id] = {stream->second.handle, parked.epoch};
  const auto evicted = st.parked.park(id, parked.api_key_id, parked.account_id,
                                      {parked.per_key_limit, parked.per_account_limit});
  for (const auto& eviction : evicted) {
    auto found = st.parked_streams.find(eviction.stream);
    if (found == st.parked_streams.end()) {
      continue;
    }
    self->send(found->second.handle,
               stream_evict{found->second.epoch, std::string{to_string(eviction.cap)}});
    st.parked_streams.erase(found);
  }
}

void forget_stream(registry_self* self, const caf::actor_addr& source) {
  auto& st = self->state;
  auto it = st.streams.find(source);
  if (it == st.streams.end()) {
    return;
  }
  for (const auto& alias : it->second.aliases) {
    auto found = st.by_alias.find(alias);
    if (found != st.by_alias.end() && found->second.address() == source) {
      st.by_alias.erase(found);
    }
  }
  st.streams.erase(it);
  st.parked.unpark(source.id());
  st.parked_streams.erase(source.id());
}

stream_opened open_stream(registry_self* self, const stream_deps& deps, stream_open& request) {
  auto& st = self->state;
  registered_stream_actor stream;
  for (const auto& alias : request.aliases) {
    if (auto it = st.by_alias.find(alias); it != st.by_alias.end()) {
      stream = it->second;
      break;
    }
  }
  const bool existing = static_cast<bool>(stream);
  if (!existing) {
    stream = spawn_stream_actor(self->system(), deps, self, request.account_id);
    self->monitor(stream);
    st.streams[stream.address()].handle = stream;
  }
  for (const auto& alias : request.aliases) {
    add_alias(self, alias, stream);
  }
  return stream_opened{stream, existing};
}

stream_registry_actor::behavior_type registry_behavior(registry_self* self,
                                                       const stream_deps* deps) {
  // Streams are not linked (one failing must not take the others down); an exit sent to the
  // registry (shutdown) is passed on to every live stream instead.
  self->set_exit_handler([self](caf::exit_msg& exit) {
    for (const auto& [address, stream] : self->state.streams) {
      self->send_exit(stream.handle, exit.reason);
    }
    self->quit(exit.reason);
  });
  self->set_down_handler([self](caf::down_msg& down) { forget_stream(self, down.source); });
  return {
    [self, deps](stream_open& request) { return open_stream(self, *deps, request); },
    [self](stream_alias& alias) {
      auto stream = self->state.streams.find(alias.stream.address());
      if (stream == self->state.streams.end()) {
        return;
      }
      add_alias(self, alias.alias, stream->second.handle);
      if (self->state.watcher) {
        self->send(self->state.watcher, std::move(alias));
      }
    },
    [self](stream_account& account) {
      if (self->state.watcher) {
        self->send(self->state.watcher, std::move(account));
      }
    },
    [self](stream_parked& parked) { park(self, parked); },
    [self](stream_unparked& unparked) {
      self->state.parked.unpark(unparked.stream.id());
      self->state.parked_streams.erase(unparked.stream.id());
    },
    [self](get_atom) { return static_cast<uint64_t>(self->state.streams.size()); },
    [self](drain_atom) { return drain_streams(self); },
    [self](put_atom, stream_watcher_actor& watcher) { self->state.watcher = std::move(watcher); },
  };
}

} // namespace

stream_registry_actor spawn_stream_registry(caf::actor_system& system, const stream_deps& deps) {
  return system.spawn(registry_behavior, &deps);
}

} // namespace cxp::actors
