#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/notices/node_notices.hpp"
#include "actors/stream/stream_messages.hpp"
#include "actors/type_ids.hpp"
#include "cluster/envelope/cluster_messages.hpp"
#include "common/errc.hpp"

namespace cxp::cluster {

/// The version of the inter-node protocol this build speaks. Bump it whenever a body type in
/// `envelope_kind` changes its fields; a node then refuses frames of the other version with
/// `errc::cluster_protocol_mismatch` instead of mis-decoding them (rolling upgrades).
constexpr uint16_t cluster_protocol_version = 1;

/// Every message between nodes. The envelope's own fields never change meaning across versions
/// (the version comes first); the body travels as CAF binary bytes that are only decoded after
/// the version and kind were checked. `peer` is the sender's actor for replies and routes,
/// serialized by the middleman; its interface is the one `envelope_kind<T>::peer` names for the
/// body's kind, which `seal` requires and `peer_of` hands back.
struct cluster_envelope {
  uint16_t version = cluster_protocol_version;
  std::string kind;   ///< `envelope_kind<T>::value` of the body
  uint64_t route = 0; ///< forwarded-session id on the receiving node; 0 for node-level messages
  caf::actor peer;
  std::vector<char> payload;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_envelope& x) {
  if constexpr (Inspector::reads_state) {
    return f(caf::meta::type_name("cluster_envelope"), x.version, x.kind, x.route, x.peer,
             x.payload);
  } else {
    // CAF 0.17 loads a byte vector by resizing it to the length the sender claims before it
    // checks that many bytes arrived (a 4 GiB allocation from a 10-byte frame); a string is
    // range-checked first. Both travel as a length and the bytes, so the wire is unchanged.
    std::string payload;
    auto result =
      f(caf::meta::type_name("cluster_envelope"), x.version, x.kind, x.route, x.peer, payload);
    x.payload.assign(payload.begin(), payload.end());
    return result;
  }
}

/// A node actor as the other nodes address it: node-level envelopes (`node_hello`,
/// `remote_open`), each answered with an envelope, and the notices it broadcasts. Published by
/// the node (`middleman::publish`) and connected to by its peers as this handle
/// (`middleman::remote_actor<peer_node_actor>`), whose interface the middleman checks.
using peer_node_actor = caf::typed_actor<caf::replies_to<cluster_envelope>::with<cluster_envelope>,
                                         caf::reacts_to<actors::notice_atom, cluster_envelope>>;

/// One end of a forwarded session as the other end addresses it: the proxy on the client's node
/// and the relay on the owner node send each other envelopes.
using forwarding_peer_actor = caf::typed_actor<caf::reacts_to<cluster_envelope>>;

/// The wire name of each body type that may travel in an envelope, and the interface of the
/// envelope's `peer` for it: the node actor for node-level bodies, the forwarding's sending end
/// (proxy or relay) for a forwarded session's.
template <class T>
struct envelope_kind;

#define CXP_ENVELOPE_KIND(type, name, peer_handle)                                                 \
  template <>                                                                                      \
  struct envelope_kind<type> {                                                                     \
    static constexpr const char* value = name;                                                     \
    using peer = peer_handle;                                                                      \
  }

CXP_ENVELOPE_KIND(node_hello, "node_hello", peer_node_actor);
CXP_ENVELOPE_KIND(remote_open, "remote_open", forwarding_peer_actor);
CXP_ENVELOPE_KIND(remote_opened, "remote_opened", forwarding_peer_actor);
CXP_ENVELOPE_KIND(remote_attach, "remote_attach", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::api_key_changed, "api_key_changed", peer_node_actor);
CXP_ENVELOPE_KIND(actors::settings_changed, "settings_changed", peer_node_actor);
CXP_ENVELOPE_KIND(actors::account_tokens_changed, "account_tokens_changed", peer_node_actor);
CXP_ENVELOPE_KIND(actors::stream_turn, "stream_turn", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::stream_forward, "stream_forward", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::stream_ack, "stream_ack", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::stream_detach, "stream_detach", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::stream_frame, "stream_frame", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::stream_turn_done, "stream_turn_done", forwarding_peer_actor);
CXP_ENVELOPE_KIND(actors::stream_closed, "stream_closed", forwarding_peer_actor);

#undef CXP_ENVELOPE_KIND

/// The interface of an envelope's `peer` when its body is a `T`.
template <class T>
using envelope_peer = typename envelope_kind<T>::peer;

/// Wraps `body` (which must hold no actor handles: those go in `peer`) for another node; `peer`
/// is the sender's actor of the interface the body's kind names.
template <class T>
cluster_envelope seal(caf::actor_system& system, const T& body, uint64_t route = 0,
                      envelope_peer<T> peer = {}) {
  cluster_envelope envelope;
  envelope.kind = envelope_kind<T>::value;
  envelope.route = route;
  envelope.peer = caf::actor_cast<caf::actor>(std::move(peer));
  caf::binary_serializer sink{system, envelope.payload};
  auto copy = body;
  // Serializing plain data into a growing buffer cannot fail.
  static_cast<void>(sink(copy));
  return envelope;
}

/// Decodes the body of `envelope` as a `T`. Fails with `errc::cluster_protocol_mismatch` when
/// the envelope is of another protocol version, holds another kind, or its bytes are not a
/// whole `T` — never a crash or a partly decoded value.
template <class T>
caf::expected<T> unseal(caf::actor_system& system, const cluster_envelope& envelope) {
  if (envelope.version != cluster_protocol_version) {
    return make_error(errc::cluster_protocol_mismatch,
                      "peer speaks cluster protocol v" + std::to_string(envelope.version)
                        + ", this node v" + std::to_string(cluster_protocol_version));
  }
  if (envelope.kind != envelope_kind<T>::value) {
    return make_error(errc::cluster_protocol_mismatch, "expected "
                                                         + std::string{envelope_kind<T>::value}
                                                         + ", got " + envelope.kind);
  }
  T body;
  caf::binary_deserializer source{system, envelope.payload};
  if (auto err = source(body)) {
    return make_error(errc::cluster_protocol_mismatch,
                      "undecodable " + envelope.kind + ": " + system.render(err));
  }
  if (source.remaining() != 0) {
    return make_error(errc::cluster_protocol_mismatch, "trailing bytes after " + envelope.kind);
  }
  return body;
}

/// The sender's actor in an envelope of body `T`, with the interface `seal` required of it; null
/// when the envelope holds another kind. Nodes of one protocol version seal the same interfaces.
template <class T>
envelope_peer<T> peer_of(const cluster_envelope& envelope) {
  if (envelope.kind != envelope_kind<T>::value) {
    return {};
  }
  return caf::actor_cast<envelope_peer<T>>(envelope.peer);
}

} // namespace cxp::cluster
