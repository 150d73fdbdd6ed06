#include "cluster/discovery/peer_discovery.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include "common/log.hpp"

namespace cxp::cluster {

namespace {

/// A dial blocks its own detached actor. Hidden: one still blocked at shutdown does not hold the
/// actor system up.
constexpr auto blocking_options = caf::detached + caf::hidden;

struct discovery_state {
  discovery_options options;
  peer_dialer_actor dialer;
  std::map<std::string, peer_node_actor> connected; ///< "host:port" → remote node actor
  std::set<std::string> connecting;
  std::vector<std::string> resolved; ///< the DNS query's addresses at the last resolution
  bool resolving = false;
  static inline const char* name = "peer_discovery";
};

/// The discovery as it addresses itself: `tick_atom` is its resolve-and-dial timer.
using discovery_impl = peer_discovery_actor::extend<caf::reacts_to<actors::tick_atom>>;

using discovery_self = caf::stateful_actor<discovery_state, discovery_impl::base>;

std::string endpoint_of(const cluster_peer& peer) {
  return peer.host + ":" + std::to_string(peer.port);
}

/// Reports the endpoints dialled and connected to the gauges, when given.
void publish_peers(discovery_self* self) {
  auto& st = self->state;
  if (st.options.expected != nullptr) {
    std::set<std::string> endpoints;
    for (const auto& peer : st.options.peers) {
      endpoints.insert(endpoint_of(peer));
    }
    for (const auto& address : st.resolved) {
      endpoints.insert(endpoint_of({address, st.options.dns_port}));
    }
    st.options.expected->set(static_cast<double>(endpoints.size()));
  }
  if (st.options.connected != nullptr) {
    st.options.connected->set(static_cast<double>(st.connected.size()));
  }
}

void connect(discovery_self* self, const cluster_peer& peer) {
  auto& st = self->state;
  const auto endpoint = endpoint_of(peer);
  if (st.connected.count(endpoint) != 0 || st.connecting.count(endpoint) != 0) {
    return;
  }
  st.connecting.insert(endpoint);
  // The dialer answers every request, so the endpoint is never left marked as dialing.
  self->request(st.dialer, caf::infinite, actors::connect_atom::value, peer)
    .then(
      [self, endpoint](peer_node_actor& remote) {
        self->state.connecting.erase(endpoint);
        self->state.connected.emplace(endpoint, remote);
        publish_peers(self);
        self->monitor(remote);
        self->send(self->state.options.node, actors::peer_up_atom::value, std::move(remote));
      },
      [self, endpoint](caf::error& error) {
        self->state.connecting.erase(endpoint);
        log::debug("cluster", "peer not reachable",
                   {{"peer", endpoint}, {"error", self->system().render(error)}});
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

void resolve(discovery_self* self) {
  auto& st = self->state;
  if (st.options.dns_query.empty() || st.resolving) {
    return;
  }
  st.resolving = true;
  self->request(st.dialer, caf::infinite, actors::resolve_atom::value, st.options.dns_query)
    .then(
      [self](std::vector<std::string>& addresses) {
        self->state.resolving = false;
        self->state.resolved = std::move(addresses);
        publish_peers(self);
        connect_all(self);
      },
      [self](caf::error&) { self->state.resolving = false; });
}

discovery_impl::behavior_type discovery_behavior(discovery_self* self, discovery_options options,
                                                 peer_dialer_actor dialer) {
  self->state.options = std::move(options);
  self->state.dialer = std::move(dialer);
  self->set_down_handler([self](caf::down_msg& down) {
    auto& connected = self->state.connected;
    for (auto it = connected.begin(); it != connected.end();) {
      it = it->second.address() == down.source ? connected.erase(it) : std::next(it);
    }
    publish_peers(self);
  });
  publish_peers(self);
  self->send(self, actors::tick_atom::value);
  return {
    [self](actors::tick_atom) {
      resolve(self);
      connect_all(self);
      self->delayed_send(self, self->state.options.interval, actors::tick_atom::value);
    },
    [self](actors::get_atom) {
      std::vector<std::string> endpoints;
      for (const auto& [endpoint, peer] : self->state.connected) {
        endpoints.push_back(endpoint);
      }
      return endpoints;
    },
  };
}

/// Answers one request, blocking its own thread, then quits.
peer_dialer_actor::behavior_type dial_once(peer_dialer_actor::pointer self) {
  return {
    [self](actors::resolve_atom, const std::string& query) {
      auto addresses = resolve_a_records(query);
      self->quit();
      return addresses;
    },
    [self](actors::connect_atom, const cluster_peer& peer) -> caf::result<peer_node_actor> {
      auto remote = self->system().middleman().remote_actor<peer_node_actor>(peer.host, peer.port);
      self->quit();
      if (!remote) {
        return std::move(remote.error());
      }
      return std::move(*remote);
    },
  };
}

peer_dialer_actor::behavior_type dialer_behavior(peer_dialer_actor::pointer self) {
  return {
    [self](actors::resolve_atom resolve_request, std::string& query) {
      return self->delegate(self->system().spawn<blocking_options>(dial_once), resolve_request,
                            std::move(query));
    },
    [self](actors::connect_atom connect_request, cluster_peer& peer) {
      return self->delegate(self->system().spawn<blocking_options>(dial_once), connect_request,
                            std::move(peer));
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

peer_discovery_actor spawn_peer_discovery(caf::actor_system& system, discovery_options options,
                                          peer_dialer_actor dialer) {
  return system.spawn(discovery_behavior, std::move(options), std::move(dialer));
}

peer_dialer_actor spawn_peer_dialer(caf::actor_system& system) {
  return system.spawn<caf::hidden>(dialer_behavior);
}

} // namespace cxp::cluster
