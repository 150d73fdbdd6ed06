#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "common/boot_config.hpp"

namespace cxp::cluster {

struct discovery_options {
  std::vector<cluster_peer> peers; ///< CODEX_POOLER_CLUSTER_PEERS
  std::string dns_query;           ///< DNS_CLUSTER_QUERY: every A record, at `dns_port`
  uint16_t dns_port = 4370;        ///< peers listen on the same cluster port as this node
  std::chrono::milliseconds interval{5'000};
  caf::actor node; ///< receives `peer_up_atom, actor` for each newly connected node actor
};

/// Spawns a detached actor (its own thread, because name resolution and
/// `middleman::remote_actor` block) that every `interval` resolves the peers (re-resolving the
/// DNS query each time), connects to each endpoint it is not connected to, and reports new
/// connections to the node actor. A lost connection (down message) is retried on the next tick.
caf::actor spawn_peer_discovery(caf::actor_system& system, discovery_options options);

/// The IPv4 addresses of `name`'s A records (blocking getaddrinfo); empty when it does not
/// resolve.
std::vector<std::string> resolve_a_records(const std::string& name);

} // namespace cxp::cluster
