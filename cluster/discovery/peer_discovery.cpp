#include "cluster/discovery/peer_discovery.hpp"

#include <map>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include "actors/type_ids.hpp"
#include "cluster/node/node_actor.hpp"
#include "common/log.hpp"

namespace cxp::cluster {

namespace {

/// Blocking work (name resolution, `middleman::remote_actor`) runs in one-shot detached actors,
/// so a slow or black-holed peer delays nothing else. Hidden: one still blocked at shutdown
/// does not hold the actor system up.
constexpr auto blocking_options = caf::detached + caf::hidden;

struct discovery_state {
  discovery_options options;
  std::map<std::string, caf::actor> connected; ///< "host:port" → remote node actor
  std::set<std::string> connecting;
  std::vector<std::string> resolved; ///< the DNS query's addresses at the last resolution
  bool resolving = false;
  static inline const char* name = "peer_discovery";
};

using discovery_self = caf::stateful_actor<discovery_state>;

std::string endpoint_of(const cluster_peer& peer) {
  return peer.host + ":" + std::to_string(peer.port);
}

void resolve(discovery_self* self) {
  if (self->state.options.dns_query.empty() || self->state.resolving) {
    return;
  }
  self->state.resolving = true;
  self->system().spawn<blocking_options>(
    [parent = caf::actor_cast<caf::actor>(self),
     query = self->state.options.dns_query](caf::event_based_actor* worker) {
      worker->send(parent, actors::resolved_atom::value, resolve_a_records(query));
      worker->quit();
    });
}

void connect(discovery_self* self, const cluster_peer& peer) {
  const auto endpoint = endpoint_of(peer);
  if (self->state.connected.count(endpoint) != 0 || self->state.connecting.count(endpoint) != 0) {
    return;
  }
  self->state.connecting.insert(endpoint);
  self->system().spawn<blocking_options>(
    [parent = caf::actor_cast<caf::actor>(self), peer, endpoint](caf::event_based_actor* worker) {
      auto remote = worker->system().middleman().remote_actor(peer.host, peer.port);
      if (remote) {
        worker->send(parent, actors::connected_atom::value, endpoint, *remote);
      } else {
        worker->send(parent, actors::failed_atom::value, endpoint);
      }
      worker->quit();
    });
}

void connect_all(discovery_self* self) {
  for (const auto& peer : self->state.options.peers) {
    connect(self, peer);
  }
  for (const auto& address : self->state.resolved) {
    connect(self, {address, self->state.options.dns_port});
  }
}

caf::behavior discovery_behavior(discovery_self* self, discovery_options options) {
  self->state.options = std::move(options);
  self->set_down_handler([self](caf::down_msg& down) {
    for (auto it = self->state.connected.begin(); it != self->state.connected.end();) {
      it = it->second.address() == down.source ? self->state.connected.erase(it) : std::next(it);
    }
  });
  self->send(self, actors::tick_atom::value);
  return {
    [self](actors::tick_atom) {
      resolve(self);
      connect_all(self);
      self->delayed_send(self, self->state.options.interval, actors::tick_atom::value);
    },
    [self](actors::resolved_atom, std::vector<std::string>& addresses) {
      self->state.resolving = false;
      self->state.resolved = std::move(addresses);
      connect_all(self);
    },
    [self](actors::connected_atom, const std::string& endpoint, caf::actor& remote) {
      self->state.connecting.erase(endpoint);
      self->state.connected.emplace(endpoint, remote);
      self->monitor(remote);
      self->send(self->state.options.node, actors::peer_up_atom::value, remote);
    },
    [self](actors::failed_atom, const std::string& endpoint) {
      self->state.connecting.erase(endpoint);
      log::debug("cluster", "peer not reachable", {{"peer", endpoint}});
    },
  };
}

} // namespace

std::vector<std::string> resolve_a_records(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::vector<std::string> addresses;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) {
    return addresses;
  }
  for (auto* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[INET_ADDRSTRLEN] = {};
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
    if (inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof(text)) != nullptr) {
      std::string address{text};
      if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
        addresses.push_back(std::move(address));
      }
    }
  }
  freeaddrinfo(found);
  return addresses;
}

caf::actor spawn_peer_discovery(caf::actor_system& system, discovery_options options) {
  return system.spawn(discovery_behavior, std::move(options));
}

} // namespace cxp::cluster
