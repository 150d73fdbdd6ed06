#include "actors/notices/node_notices.hpp"

#include <set>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace cxp::actors {

namespace {

/// Where each kind's board is registered (CAF 0.17 atoms: at most 10 characters).
template <class Notice>
struct board_of;

template <>
struct board_of<api_key_changed> {
  static constexpr auto name = caf::atom("nb_api_key");
};

template <>
struct board_of<settings_changed> {
  static constexpr auto name = caf::atom("nb_setting");
};

template <>
struct board_of<account_tokens_changed> {
  static constexpr auto name = caf::atom("nb_tokens");
};

struct board_state {
  /// Weak: a subscription must not keep its subscriber alive.
  std::set<caf::actor_addr> subscribers;
  static inline const char* name = "notice_board";
};

template <class Notice>
using board_pointer = typename notice_board_actor<Notice>::template stateful_pointer<board_state>;

template <class Notice>
typename notice_board_actor<Notice>::behavior_type board_behavior(board_pointer<Notice> self) {
  self->set_down_handler(
    [self](const caf::down_msg& down) { self->state.subscribers.erase(down.source); });
  return {
    [self](subscribe_atom, const notice_subscriber_actor<Notice>& subscriber) {
      if (subscriber && self->state.subscribers.insert(subscriber.address()).second) {
        self->monitor(subscriber);
      }
    },
    [self](unsubscribe_atom, const notice_subscriber_actor<Notice>& subscriber) {
      if (self->state.subscribers.erase(subscriber.address()) > 0) {
        self->demonitor(subscriber.address());
      }
    },
    [self](const Notice& notice) {
      for (const auto& subscriber : self->state.subscribers) {
        self->send(caf::actor_cast<notice_subscriber_actor<Notice>>(subscriber), notice);
      }
    },
    [self](get_atom) { return static_cast<int64_t>(self->state.subscribers.size()); },
  };
}

template <class Notice>
caf::strong_actor_ptr spawn_board(caf::actor_system& system) {
  return caf::actor_cast<caf::strong_actor_ptr>(system.spawn<caf::hidden>(board_behavior<Notice>));
}

} // namespace

template <class Notice>
notice_board_actor<Notice> notice_board(caf::actor_system& system) {
  return caf::actor_cast<notice_board_actor<Notice>>(
    registered_actor(system, board_of<Notice>::name, spawn_board<Notice>));
}

template <class Notice>
void announce(caf::actor_system& system, Notice notice) {
  caf::anon_send(notice_board<Notice>(system), std::move(notice));
}

notice_boards_scope::notice_boards_scope(caf::actor_system& system)
    : registered_actors_scope(system,
                              {board_of<api_key_changed>::name, board_of<settings_changed>::name,
                               board_of<account_tokens_changed>::name}) {}

template notice_board_actor<api_key_changed> notice_board(caf::actor_system&);
template notice_board_actor<settings_changed> notice_board(caf::actor_system&);
template notice_board_actor<account_tokens_changed> notice_board(caf::actor_system&);
template void announce(caf::actor_system&, api_key_changed);
template void announce(caf::actor_system&, settings_changed);
template void announce(caf::actor_system&, account_tokens_changed);

} // namespace cxp::actors
