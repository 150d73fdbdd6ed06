#include "actors/notices/node_notices.hpp"

#include <memory>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::actors;

namespace {

/// A typed subscriber that records every `api_key_changed` it receives.
notice_subscriber_actor<api_key_changed>::behavior_type
key_recorder(notice_subscriber_actor<api_key_changed>::pointer self,
             std::shared_ptr<std::vector<std::string>> seen) {
  subscribe_to<api_key_changed>(self);
  return {[seen](const api_key_changed& changed) {
    seen->push_back(changed.api_key_id);
  }};
}

/// A dynamically typed subscriber (like the node actor) of `settings_changed`.
caf::behavior settings_recorder(caf::event_based_actor* self, std::shared_ptr<int> seen) {
  subscribe_to<settings_changed>(self);
  return {[seen](const settings_changed&) {
    ++*seen;
  }};
}

struct notices_fixture : test::actor_fixture {
  template <class Notice>
  int64_t subscribers_of() {
    auto count = std::make_shared<int64_t>(-1);
    system.spawn([count, board = notice_board<Notice>(system)](caf::event_based_actor* self) {
      self->request(board, caf::infinite, get_atom::value).then([count](int64_t n) { *count = n; });
    });
    sched.run();
    return *count;
  }
};

} // namespace

TEST_CASE("a notice reaches every subscriber of its kind once and no other actor",
          "[unit][actors][notices]") {
  notices_fixture fx;
  auto first = std::make_shared<std::vector<std::string>>();
  auto second = std::make_shared<std::vector<std::string>>();
  auto settings_seen = std::make_shared<int>(0);
  auto a = fx.system.spawn(key_recorder, first);
  auto b = fx.system.spawn(key_recorder, second);
  auto c = fx.system.spawn(settings_recorder, settings_seen);
  fx.sched.run();
  // Subscribing twice is one subscription.
  caf::anon_send(notice_board<api_key_changed>(fx.system), subscribe_atom::value,
                 notice_subscriber_actor<api_key_changed>{a});
  fx.sched.run();
  CHECK(fx.subscribers_of<api_key_changed>() == 2);
  CHECK(fx.subscribers_of<settings_changed>() == 1);

  announce(fx.system, api_key_changed{"key-1"});
  fx.sched.run();
  CHECK(*first == std::vector<std::string>{"key-1"});
  CHECK(*second == std::vector<std::string>{"key-1"});
  CHECK(*settings_seen == 0);

  announce(fx.system, settings_changed{});
  fx.sched.run();
  CHECK(*settings_seen == 1);
  CHECK(first->size() == 1);

  for (const auto& actor : {caf::actor_cast<caf::actor>(a), caf::actor_cast<caf::actor>(b), c}) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }
  fx.sched.run();
}

TEST_CASE("a subscriber that unsubscribes or terminates receives nothing more and leaves the board",
          "[unit][actors][notices]") {
  notices_fixture fx;
  auto leaving = std::make_shared<std::vector<std::string>>();
  auto staying = std::make_shared<std::vector<std::string>>();
  auto unsubscriber = fx.system.spawn(key_recorder, leaving);
  auto quitter = fx.system.spawn(key_recorder, staying);
  fx.sched.run();
  REQUIRE(fx.subscribers_of<api_key_changed>() == 2);

  caf::anon_send(notice_board<api_key_changed>(fx.system), unsubscribe_atom::value,
                 notice_subscriber_actor<api_key_changed>{unsubscriber});
  fx.sched.run();
  announce(fx.system, api_key_changed{"key-2"});
  fx.sched.run();
  CHECK(leaving->empty());
  CHECK(*staying == std::vector<std::string>{"key-2"});
  CHECK(fx.subscribers_of<api_key_changed>() == 1);

  // The board monitors its subscribers: one that terminates is dropped without unsubscribing.
  caf::anon_send_exit(quitter, caf::exit_reason::user_shutdown);
  fx.sched.run();
  CHECK(fx.subscribers_of<api_key_changed>() == 0);

  caf::anon_send_exit(unsubscriber, caf::exit_reason::user_shutdown);
  fx.sched.run();
}

TEST_CASE("a subscription does not keep its subscriber alive", "[unit][actors][notices]") {
  notices_fixture fx;
  auto seen = std::make_shared<std::vector<std::string>>();
  caf::weak_actor_ptr weak;
  {
    auto subscriber = fx.system.spawn(key_recorder, seen);
    weak = caf::actor_cast<caf::weak_actor_ptr>(subscriber);
    fx.sched.run();
    REQUIRE(fx.subscribers_of<api_key_changed>() == 1);
  }
  fx.sched.run();
  CHECK(weak.lock() == nullptr);
  // Its destruction counts as terminating: the board forgets it.
  CHECK(fx.subscribers_of<api_key_changed>() == 0);
}

TEST_CASE("a board lives as long as its subscribers, and publishing without one spawns none",
          "[unit][actors][notices]") {
  notices_fixture fx;
  auto seen = std::make_shared<std::vector<std::string>>();
  auto first = fx.system.spawn(key_recorder, seen);
  auto second = fx.system.spawn(key_recorder, seen);
  fx.sched.run();
  const auto board = caf::actor_cast<caf::weak_actor_ptr>(notice_board<api_key_changed>(fx.system));
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  fx.sched.run();
  CHECK(board.lock() != nullptr); // the second subscriber still holds it
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  fx.sched.run();
  CHECK(board.lock() == nullptr);

  announce(fx.system, api_key_changed{"key-4"});
  fx.sched.run();
  CHECK(fx.sched.jobs.empty());
  CHECK(seen->empty());
}

TEST_CASE("each kind has one board per actor system, spawned again after it died",
          "[unit][actors][notices]") {
  notices_fixture fx;
  auto board = notice_board<api_key_changed>(fx.system);
  CHECK(notice_board<api_key_changed>(fx.system) == board);
  caf::anon_send_exit(board, caf::exit_reason::kill);
  fx.sched.run();
  auto next = notice_board<api_key_changed>(fx.system);
  CHECK(next != board);

  auto seen = std::make_shared<std::vector<std::string>>();
  auto subscriber = fx.system.spawn(key_recorder, seen);
  fx.sched.run();
  announce(fx.system, api_key_changed{"key-3"});
  fx.sched.run();
  CHECK(*seen == std::vector<std::string>{"key-3"});
  caf::anon_send_exit(subscriber, caf::exit_reason::user_shutdown);
  fx.sched.run();
}
