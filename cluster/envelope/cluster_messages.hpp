#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace cxp::cluster {

// Bodies of `cluster_envelope` that only the cluster uses. They hold data only (no actor
// handles, no secrets): handles travel in the envelope's `peer`.

/// Node actors introduce themselves (request and reply).
struct node_hello {
  std::string node_id;
  uint16_t protocol_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("node_hello"), x.node_id, x.protocol_version);
}

/// To the owner node: attach a forwarded connection to the local stream of `aliases` (hashed
/// session keys). The envelope's `peer` is the requesting node's proxy actor, which receives the
/// stream's frames; answered with `remote_opened`.
struct remote_open {
  std::vector<std::string> aliases;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_open& x) {
  return f(caf::meta::type_name("remote_open"), x.aliases);
}

struct remote_opened {
  uint64_t route = 0; ///< the owner node's id for this forwarded connection
  bool existing = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_opened& x) {
  return f(caf::meta::type_name("remote_opened"), x.route, x.existing);
}

/// `stream_attach` minus the connection handle (the owner's relay stands in for it).
struct remote_attach {
  uint64_t connection_id = 0;
  std::vector<std::pair<std::string, std::string>> client_headers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_attach& x) {
  return f(caf::meta::type_name("remote_attach"), x.connection_id, x.client_headers);
}

} // namespace cxp::cluster
