#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/group.hpp>
#include <caf/meta/type_name.hpp>

namespace cxp::actors {

// Changes that actors cache (API keys, instance settings, account tokens), announced the moment an
// operator makes them so no cache waits for its next poll. They go out on the node's notice boards;
// the cluster's node actor carries this node's notices to every peer and posts theirs here, marked
// `from_peer` so they are not sent back out.

/// An API key was paused, resumed, revoked, rotated or edited. Holders of the key re-check it
/// with the database: a websocket whose key stopped working closes with 1008, a cache drops it.
struct api_key_changed {
  std::string api_key_id;
  bool from_peer = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_key_changed& x) {
  return f(caf::meta::type_name("api_key_changed"), x.api_key_id, x.from_peer);
}

/// The instance settings changed: settings caches reload.
struct settings_changed {
  bool from_peer = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, settings_changed& x) {
  return f(caf::meta::type_name("settings_changed"), x.from_peer);
}

/// An account's owner stored a new token generation: replicas reload the (encrypted) tokens from
/// the database. Carries no token: tokens never travel between nodes.
struct account_tokens_changed {
  std::string account_id;
  int64_t generation = 0;
  bool from_peer = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, account_tokens_changed& x) {
  return f(caf::meta::type_name("account_tokens_changed"), x.account_id, x.generation, x.from_peer);
}

/// The node's notice board for `Notice`: a local group per notice type, so a subscriber (which
/// `join`s it) only ever receives the one type it handles; publishers `announce` on it.
template <class Notice>
caf::group notice_board(caf::actor_system& system);

/// Publishes `notice` to every subscriber of this node's notice board.
template <class Notice>
void announce(caf::actor_system& system, Notice notice);

} // namespace cxp::actors
