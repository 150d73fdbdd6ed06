#pragma once

#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/stream/stream_messages.hpp"
#include "actors/stream/stream_registry.hpp"
#include "actors/type_ids.hpp"
#include "cluster/envelope/cluster_envelope.hpp"

namespace cxp::cluster {

/// The proxy's interface: the stream protocol from the edge's connection
/// (`actors::stream_actor`), the owner's relay once the owner named it (`relay_atom`), and the
/// relay's envelopes.
using stream_proxy_actor =
  actors::stream_actor::extend<caf::reacts_to<actors::relay_atom, forwarding_peer_actor>,
                               caf::reacts_to<cluster_envelope>>;

/// The relay's interface: what the owner's stream sends a connection
/// (`actors::stream_connection_actor`), and the proxy's envelopes.
using stream_relay_actor =
  actors::stream_connection_actor::extend<caf::reacts_to<cluster_envelope>>;

/// On the node a client is connected to: stands in for a remote owner's `stream_actor`. Takes
/// the stream protocol from the edge's connection (`stream_attach`, `stream_turn`,
/// `stream_forward`, `stream_ack`, `stream_detach`), seals each into a `cluster_envelope` and
/// sends it to the owner's relay (set with `relay_atom, forwarding_peer_actor`; earlier messages
/// wait); unseals the relay's `stream_frame` / `stream_turn_done` / `stream_closed` and passes
/// them to the connection. An envelope of another protocol version (or kind) is never decoded:
/// the turn in flight ends with `cluster_protocol_mismatch` and the forwarding to that owner
/// stops. When the owner is lost (its node died or left), the turn in flight ends with
/// `owner_unavailable` and the next turn re-opens the session through `node` (this node's node
/// actor) with `aliases`: once the dead owner's lease expired this node takes it over, and the
/// proxy then passes everything to the new stream.
stream_proxy_actor spawn_stream_proxy(caf::actor_system& system, actors::stream_opener_actor node,
                                      std::vector<std::string> aliases);

/// On the owner node: the forwarded connection's stand-in towards the local `stream`. Unseals
/// the proxy's envelopes into the stream protocol (attaching itself as the connection) and
/// seals the stream's frames back to `proxy`. Detaches when the proxy (or its node) goes away.
stream_relay_actor spawn_stream_relay(caf::actor_system& system, actors::stream_actor stream,
                                      forwarding_peer_actor proxy);

} // namespace cxp::cluster
