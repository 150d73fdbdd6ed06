#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"
#include "cluster/envelope/cluster_envelope.hpp"
#include "common/boot_config.hpp"
#include "common/metrics/registry.hpp"

namespace cxp::cluster {

/// Hears of every peer node actor discovery connects (`peer_up_atom, peer_node_actor`): the node
/// actor.
using peer_listener_actor = caf::typed_actor<caf::reacts_to<actors::peer_up_atom, peer_node_actor>>;

/// The blocking half of discovery: `resolve_atom, query` → the IPv4 addresses of the query's A
/// records (empty when it does not resolve); `connect_atom, peer` → the peer's node actor
/// (`middleman::remote_actor`, which checks its interface), or an error when it is unreachable.
/// Every request is answered, however long the name server or the peer takes.
using peer_dialer_actor = caf::typed_actor<
  caf::replies_to<actors::resolve_atom, std::string>::with<std::vector<std::string>>,
  caf::replies_to<actors::connect_atom, cluster_peer>::with<peer_node_actor>>;

/// The discovery's interface: `get_atom` → the endpoints (`host:port`) of the peers it is
/// connected to.
using peer_discovery_actor =
  caf::typed_actor<caf::replies_to<actors::get_atom>::with<std::vector<std::string>>>;

struct discovery_options {
  std::vector<cluster_peer> peers; ///< CODEX_POOLER_CLUSTER_PEERS
  std::string dns_query;           ///< DNS_CLUSTER_QUERY: every A record, at `dns_port`
  uint16_t dns_port = 4370;        ///< peers listen on the same cluster port as this node
  std::chrono::milliseconds interval{5'000};
  peer_listener_actor node; ///< told of each newly connected peer node actor
  /// Set to the endpoints it dials (configured peers plus the last resolution's addresses) and
  /// to those it is connected to; null: not reported. Must outlive the discovery actor.
  metrics::gauge* expected = nullptr;
  metrics::gauge* connected = nullptr;
};

/// Spawns the actor that every `interval` (and at once) re-resolves the DNS query through
/// `dialer` and dials each peer endpoint it is neither connected nor dialing, reporting each new
/// connection to `options.node`. A failed dial is retried on the next tick, and so is a peer whose
/// connection went down (its node actor's down message).
peer_discovery_actor spawn_peer_discovery(caf::actor_system& system, discovery_options options,
                                          peer_dialer_actor dialer);

/// Spawns the dialer the node uses: each request runs in its own one-shot detached actor (name
/// resolution and `middleman::remote_actor` block), so a slow or black-holed peer delays nothing
/// else. Needs the middleman.
peer_dialer_actor spawn_peer_dialer(caf::actor_system& system);

/// The IPv4 addresses of `name`'s A records (blocking getaddrinfo); empty when it does not
/// resolve.
std::vector<std::string> resolve_a_records(const std::string& name);

} // namespace cxp::cluster

// A discovery asks its dialer on the same node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::cluster_peer)
