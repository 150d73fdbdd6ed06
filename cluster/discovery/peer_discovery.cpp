#include "cluster/discovery/peer_discovery.hpp"

#include <map>

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

struct discovery_state {
  discovery_options options;
  std::map<std::string, caf::actor> connected; ///< "host:port" → remote node actor
  static inline const char* name = "peer_discovery";
};

using discovery_self = caf::stateful_actor<discovery_state>;

std::vector<cluster_peer> endpoints_of(const discovery_options& options) {
  auto endpoints = options.peers;
  if (!options.dns_query.empty()) {
    for (auto& address : resolve_a_records(options.dns_query)) {
      endpoints.push_back({std::move(address), options.dns_port});
    }
  }
  return endpoints;
}

void connect_all(discovery_self* self) {
  for (const auto& peer : endpoints_of(self->state.options)) {
    const auto endpoint = peer.host + ":" + std::to_string(peer.port);
    if (self->state.connected.count(endpoint) != 0) {
      continue;
    }
    // Blocks this (detached) actor's own thread only.
    auto remote = self->system().middleman().remote_actor(peer.host, peer.port);
    if (!remote) {
      log::debug("cluster", "peer not reachable", {{"peer", endpoint}});
      continue;
    }
    self->state.connected.emplace(endpoint, *remote);
    self->monitor(*remote);
    self->send(self->state.options.node, peer_up_atom::value, *remote);
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
      connect_all(self);
      self->delayed_send(self, self->state.options.interval, actors::tick_atom::value);
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
  return system.spawn<caf::detached>(discovery_behavior, std::move(options));
}

} // namespace cxp::cluster
