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

/// Spawns the actor that every `interval` re-resolves the DNS query and connects to each peer
/// endpoint it is not connected to, reporting new connections to the node actor. Name
/// resolution and `middleman::remote_actor` block, so each runs in a one-shot detached actor and
/// never on a scheduler thread. A lost connection (down message) is retried on the next tick.
caf::actor spawn_peer_discovery(caf::actor_system& system, discovery_options options);

/// The IPv4 addresses of `name`'s A records (blocking getaddrinfo); empty when it does not
/// resolve.
std::vector<std::string> resolve_a_records(const std::string& name);

} // namespace cxp::cluster
