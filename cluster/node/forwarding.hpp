#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace cxp::cluster {

/// On the node a client is connected to: stands in for a remote owner's `stream_actor`. Takes
/// the stream protocol from the edge's connection (`stream_attach`, `stream_turn`,
/// `stream_forward`, `stream_ack`, `stream_detach`), seals each into a `cluster_envelope` and
/// sends it to the owner's relay (set with `relay_atom, actor`; earlier messages wait); unseals
/// the relay's `stream_frame` / `stream_turn_done` / `stream_closed` and passes them to the
/// connection. An envelope of another protocol version (or kind) is never decoded: the turn in
/// flight ends with `cluster_protocol_mismatch` and the forwarding to that owner stops. When the
/// owner is lost (its node died or left), the turn in flight ends with `owner_unavailable` and the
/// next turn re-opens the session through `node` (this node's node actor) with `aliases`: once the
/// dead owner's lease expired this node takes it over, and the proxy then passes everything to the
/// new stream.
caf::actor spawn_stream_proxy(caf::actor_system& system, caf::actor node,
                              std::vector<std::string> aliases);

/// On the owner node: the forwarded connection's stand-in towards the local `stream`. Unseals
/// the proxy's envelopes into the stream protocol (attaching itself as the connection) and
/// seals the stream's frames back to `proxy`. Detaches when the proxy (or its node) goes away.
caf::actor spawn_stream_relay(caf::actor_system& system, caf::actor stream, caf::actor proxy);

} // namespace cxp::cluster
