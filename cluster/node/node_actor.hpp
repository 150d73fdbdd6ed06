#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/notices/node_notices.hpp"
#include "actors/settings/settings_cache.hpp"
#include "actors/stream/stream_registry.hpp"
#include "actors/type_ids.hpp"
#include "cluster/discovery/peer_discovery.hpp"
#include "cluster/envelope/cluster_envelope.hpp"

namespace cxp::cluster {

/// What a node actor needs; values from boot config.
struct node_options {
  std::string node_id;                          ///< this process's id in `cluster_nodes`
  actors::db_pool_actor db_pool;                ///< actors::spawn_db_pool
  actors::stream_registry_actor local_registry; ///< this node's streams
  actors::settings_cache_actor settings; ///< reloaded when this node or a peer changes settings
  std::chrono::milliseconds lease_ttl{45'000};
  std::chrono::milliseconds lease_renewal{15'000};
  std::chrono::milliseconds remote_timeout{5'000}; ///< a request to another node
};

/// The node actor's interface: the stream registry's towards the edge
/// (`actors::stream_opener_actor`, and `drain_atom`), the registry's watcher
/// (`actors::stream_watcher_actor`), a peer node's (`peer_node_actor`), discovery's listener
/// (`peer_listener_actor`), the notices it carries between nodes, and `hand_off_atom`.
using node_actor = actors::stream_opener_actor::
  extend_with<actors::stream_watcher_actor, peer_node_actor, peer_listener_actor>::extend<
    caf::replies_to<actors::drain_atom>::with<int64_t>,
    caf::replies_to<actors::hand_off_atom>::with<int64_t>, caf::reacts_to<actors::api_key_changed>,
    caf::reacts_to<actors::settings_changed>, caf::reacts_to<actors::account_tokens_changed>>;

/// The node's actor, published through the middleman on `CODEX_POOLER_CLUSTER_PORT` (peers
/// connect to it as `peer_node_actor`), and the stream registry the edge talks to.
///
/// From the edge (local):
/// - `stream_open` → `stream_opened`. The session's owner is the node holding its lease in
///   `session_leases` (keyed by the first alias, the hashed turn state). A session this node
///   owns is served by the local registry (keys of the open it does not hold yet, such as a
///   reconnect's new turn state, are leased too). A session whose live lease another connected node
///   holds is forwarded: a local proxy actor stands in for the owner's stream and exchanges
///   versioned envelopes with a relay on the owner, which talks to the owner's `stream_actor`
///   (one upstream socket; frames in order; acks pass through, so backpressure holds end to
///   end). A free or expired lease is acquired (new token) and the stream opened locally. A live
///   lease of an unreachable node answers `owner_unavailable`; a draining node opens no new
///   sessions (`service_unavailable`).
/// From the local registry (this node is its watcher): `stream_account` (recorded in the
/// stream's leases), `stream_alias` (a key the stream learned later, e.g. a response id: leased
/// under the session's token, so a client naming only that key is forwarded here).
/// From peers (`cluster_envelope` of `cluster_protocol_version`; another version is answered
/// with `cluster_protocol_mismatch`): `node_hello` (answered with ours), `remote_open`
/// (answered with `remote_opened` whose envelope peer is the relay).
/// Notices (actors/notices): the node actor subscribes to the three notice boards. This node's
/// `api_key_changed`, `settings_changed` and `account_tokens_changed` are broadcast to every
/// connected peer as `notice_atom, cluster_envelope`; a peer's notice is posted on this node's
/// board marked `from_peer` (keys, tokens), or reloads the settings cache (settings, for this
/// node's changes too).
/// From this process: `peer_up_atom, peer_node_actor` (peer_discovery connected a node actor);
/// `actors::drain_atom` → `int64_t` (stop opening sessions; answered with the number of local
/// streams once none has a turn running or queued); `hand_off_atom` → `int64_t` (hand every lease
/// of this node off: expired now, account kept, so another node takes each session over at once
/// on the same account; answered with the count). Owned leases are renewed every `lease_renewal`; a
/// lease whose renewal is refused was taken over and is forgotten; a stream that quits releases its
/// lease.
node_actor spawn_node_actor(caf::actor_system& system, node_options options);

} // namespace cxp::cluster
