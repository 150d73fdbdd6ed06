#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_traits.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/send.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace cxp::actors {

// Changes that actors cache (API keys, instance settings, account tokens), announced the moment an
// operator makes them so no cache waits for its next poll. They go out on the node's notice boards
// (one typed actor per kind of notice);
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

/// What a notice board delivers `Notice` to.
template <class Notice>
using notice_subscriber_actor = caf::typed_actor<caf::reacts_to<Notice>>;

/// The node's board for one kind of notice, so a subscriber only ever receives the kinds it
/// handles:
/// - `subscribe_atom, notice_subscriber_actor<Notice>`: the subscriber receives every notice
///   published after this until it unsubscribes or terminates (the board monitors it and holds
///   no strong reference, so a subscription never keeps an actor alive);
/// - `unsubscribe_atom, notice_subscriber_actor<Notice>`;
/// - `Notice`: published to every subscriber;
/// - `get_atom` → `int64_t`: how many subscribers it holds (diagnostics and tests).
template <class Notice>
using notice_board_actor =
  caf::typed_actor<caf::reacts_to<subscribe_atom, notice_subscriber_actor<Notice>>,
                   caf::reacts_to<unsubscribe_atom, notice_subscriber_actor<Notice>>,
                   caf::reacts_to<Notice>, caf::replies_to<get_atom>::with<int64_t>>;

/// This node's board for `Notice`: one per actor system, found by every actor of the node the way
/// it finds its system, from any thread. It is spawned (hidden) when none is alive and lives as
/// long as a handle to it does; `subscribe_to` keeps one for as long as its subscriber lives, so
/// a board is gone once its last subscriber is, before its actor system stops.
template <class Notice>
notice_board_actor<Notice> notice_board(caf::actor_system& system);

/// Publishes `notice` to every subscriber of this node's board for it (none when no board is
/// alive).
template <class Notice>
void announce(caf::actor_system& system, Notice notice);

/// `self` as a subscriber of `Notice`: checked against its interface when `self` is typed,
/// taken at its word when it is a dynamically typed actor.
template <class Notice, class Self>
notice_subscriber_actor<Notice> as_notice_subscriber(Self* self) {
  if constexpr (caf::actor_traits<Self>::is_statically_typed) {
    return notice_subscriber_actor<Notice>{self};
  } else {
    return caf::actor_cast<notice_subscriber_actor<Notice>>(self);
  }
}

/// Subscribes `self` to this node's board for `Notice` until it terminates; `self` keeps the
/// board alive until then.
template <class Notice, class Self>
void subscribe_to(Self* self) {
  auto board = notice_board<Notice>(self->system());
  self->attach_functor([board] {});
  caf::anon_send(board, subscribe_atom::value, as_notice_subscriber<Notice>(self));
}

} // namespace cxp::actors
