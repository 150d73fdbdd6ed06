#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

namespace cxp::actors {

// The node's one message catalogue. Every atom of every actor interface (actors/ and cluster/)
// is declared here and nowhere else (CAF 0.17: at most 10 characters each). The message types
// that may cross a node boundary are announced by `add_message_types` below (actors/) and
// `cluster::add_cluster_message_types` (the envelope, which lives above actors/); every other
// message is node-local and marked `CAF_ALLOW_UNSAFE_MESSAGE_TYPE` next to its actor.

// -- request path and caches ---------------------------------------------------------------------
using get_atom = caf::atom_constant<caf::atom("get")>;
using put_atom = caf::atom_constant<caf::atom("put")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using checkout_atom = caf::atom_constant<caf::atom("checkout")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using refresh_ahead_atom = caf::atom_constant<caf::atom("refrahead")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;

// -- custody, drain and shutdown -----------------------------------------------------------------
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using ownership_atom = caf::atom_constant<caf::atom("ownership")>;
using generation_atom = caf::atom_constant<caf::atom("generation")>;
using evidence_atom = caf::atom_constant<caf::atom("evidence")>;
using hand_off_atom = caf::atom_constant<caf::atom("handoff")>;
/// The node heartbeat marks the node `down` and quits.
using down_atom = caf::atom_constant<caf::atom("down")>;

// -- cluster (node actor, forwarding, peer discovery) --------------------------------------------
/// peer_discovery connected a peer's node actor.
using peer_up_atom = caf::atom_constant<caf::atom("peer_up")>;
/// Names a forwarded stream's relay on the owner node.
using relay_atom = caf::atom_constant<caf::atom("relay")>;
/// Tags a notice envelope a peer broadcast; it needs no reply.
using notice_atom = caf::atom_constant<caf::atom("notice")>;
/// Tags an open that must be served on this node (a peer's `remote_open`).
using local_atom = caf::atom_constant<caf::atom("local")>;
/// Asks peer discovery's dialer to resolve a DNS query / to connect a peer's node actor.
using resolve_atom = caf::atom_constant<caf::atom("resolve")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;

// -- jobs (the scheduler group and its store) ----------------------------------------------------
/// Acquire or renew the scheduler lease / let it expire now (a draining node).
using lease_atom = caf::atom_constant<caf::atom("lease")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
/// (leader_atom, leading, epoch): this node's scheduler leadership changed.
using leader_atom = caf::atom_constant<caf::atom("leader")>;
/// Rescue timed-out claims and prune finished jobs / read the queue's gauges.
using rescue_atom = caf::atom_constant<caf::atom("rescue")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// Announces every message type that may cross a node boundary. CAF 0.17 has no type-ID blocks;
/// `add_message_type` is its equivalent and this is the one place it is called.
void add_message_types(caf::actor_system_config& config);

} // namespace cxp::actors
