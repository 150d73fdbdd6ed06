#include "actors/notices/node_notices.hpp"

#include <mutex>
#include <set>
#include <unordered_map>

#include <caf/abstract_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace cxp::actors {

namespace {

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

/// The board of `Notice` of `system` while one is alive, spawning one when `spawn` says so. Held
/// weakly here, so a board lives exactly as long as the handles to it (its subscribers'); a
/// registered one would outlive its system's scheduler unless every owner of a system (tests
/// included) remembered to end it.
template <class Notice>
caf::strong_actor_ptr live_board(caf::actor_system& system, bool spawn) {
  static std::mutex mutex;
  static std::unordered_map<const caf::actor_system*, caf::weak_actor_ptr> boards;
  std::lock_guard lock{mutex};
  auto& known = boards[&system];
  if (auto board = known.lock();
      board && !board->get()->getf(caf::abstract_actor::is_terminated_flag)) {
    return board;
  }
  if (!spawn) {
    return nullptr;
  }
  auto board =
    caf::actor_cast<caf::strong_actor_ptr>(system.spawn<caf::hidden>(board_behavior<Notice>));
  known = caf::actor_cast<caf::weak_actor_ptr>(board);
  return board;
}

} // namespace

template <class Notice>
notice_board_actor<Notice> notice_board(caf::actor_system& system) {
  return caf::actor_cast<notice_board_actor<Notice>>(live_board<Notice>(system, true));
}

template <class Notice>
void announce(caf::actor_system& system, Notice notice) {
  if (auto board = live_board<Notice>(system, false)) {
    caf::anon_send(caf::actor_cast<notice_board_actor<Notice>>(board), std::move(notice));
  }
}

template notice_board_actor<api_key_changed> notice_board(caf::actor_system&);
template notice_board_actor<settings_changed> notice_board(caf::actor_system&);
template notice_board_actor<account_tokens_changed> notice_board(caf::actor_system&);
template void announce(caf::actor_system&, api_key_changed);
template void announce(caf::actor_system&, settings_changed);
template void announce(caf::actor_system&, account_tokens_changed);

} // namespace cxp::actors
