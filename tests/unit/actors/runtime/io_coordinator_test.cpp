#include "actors/runtime/io_coordinator.hpp"

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "tests/support/eventually.hpp"

using namespace cxp;
using namespace std::chrono_literals;

namespace {

/// Which thread handled each numbered message, and in what order.
struct handled_log {
  std::mutex mutex;
  std::map<int, std::thread::id> threads;
  std::vector<int> order;

  void note(int number) {
    std::lock_guard guard{mutex};
    threads[number] = std::this_thread::get_id();
    order.push_back(number);
  }
  std::optional<std::thread::id> thread_of(int number) {
    std::lock_guard guard{mutex};
    auto found = threads.find(number);
    return found == threads.end() ? std::nullopt : std::optional{found->second};
  }
  size_t count() {
    std::lock_guard guard{mutex};
    return order.size();
  }
};

/// Notes every `int` it gets; `-n` asks it to note `n` again 20 ms later (through the clock).
caf::behavior recorder(caf::event_based_actor* self, std::shared_ptr<handled_log> log) {
  return {[self, log](int number) {
    if (number < 0) {
      self->delayed_send(self, 20ms, -number);
      return;
    }
    log->note(number);
  }};
}

struct coordinated_config : caf::actor_system_config {
  coordinated_config() { actors::io_coordinator::install(*this); }
};

struct coordinated_system {
  coordinated_config config;
  std::unique_ptr<caf::actor_system> system = std::make_unique<caf::actor_system>(config);
  actors::io_coordinator& coordinator = actors::io_coordinator::of(*system);
};

std::thread::id thread_of(boost::asio::io_context& io) {
  std::promise<std::thread::id> id;
  boost::asio::post(io, [&id] { id.set_value(std::this_thread::get_id()); });
  return id.get_future().get();
}

bool handled(handled_log& log, int number) {
  return test::eventually([&] { return log.thread_of(number).has_value(); }, 5s);
}

/// A recorder that has run once on the own thread, so that what follows finds it idle.
caf::actor idle_recorder(caf::actor_system& system, const std::shared_ptr<handled_log>& log) {
  auto actor = system.spawn(recorder, log);
  caf::anon_send(actor, 0);
  REQUIRE(handled(*log, 0));
  std::this_thread::sleep_for(10ms); // lets its turn end
  return actor;
}

/// An idle recorder on a coordinator attached to one Asio thread; detached and stopped at the end.
struct attached_recorder {
  attached_recorder() {
    io.start();
    node.coordinator.attach(io);
  }
  ~attached_recorder() {
    node.coordinator.detach();
    io.stop();
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }
  coordinated_system node;
  std::shared_ptr<handled_log> log = std::make_shared<handled_log>();
  caf::actor actor = idle_recorder(*node.system, log);
  io_pool io{1};
};

} // namespace

TEST_CASE("actors run on their own thread until attached, then on the Asio threads, and on "
          "their own thread again after detach",
          "[unit][actors][io_coordinator]") {
  coordinated_system node;
  auto log = std::make_shared<handled_log>();
  auto actor = node.system->spawn(recorder, log);
  const auto main_thread = std::this_thread::get_id();

  caf::anon_send(actor, 1);
  REQUIRE(handled(*log, 1));
  const auto own_thread = *log->thread_of(1);
  CHECK(own_thread != main_thread);

  io_pool io{1};
  io.start();
  node.coordinator.attach(io);
  const auto io_thread = thread_of(io.at(0));

  // Scheduled from the Asio thread: runs there.
  boost::asio::post(io.at(0), [actor] { caf::anon_send(actor, 2); });
  REQUIRE(handled(*log, 2));
  CHECK(*log->thread_of(2) == io_thread);
  // Scheduled from elsewhere (this thread, the actor clock): on an Asio thread as well.
  caf::anon_send(actor, 3);
  caf::anon_send(actor, -4);
  REQUIRE(handled(*log, 3));
  REQUIRE(handled(*log, 4));
  CHECK(*log->thread_of(3) == io_thread);
  CHECK(*log->thread_of(4) == io_thread);

  node.coordinator.detach();
  io.stop();
  caf::anon_send(actor, 5);
  REQUIRE(handled(*log, 5));
  CHECK(*log->thread_of(5) == own_thread);

  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  node.system.reset(); // ends, with every actor done, on the own thread
}

TEST_CASE("an actor's turn on an Asio thread is bounded, so the thread's other handlers run "
          "between its turns",
          "[unit][actors][io_coordinator]") {
  attached_recorder fx;
  auto& io = fx.io;
  auto& log = fx.log;
  auto& actor = fx.actor;

  constexpr int messages = 500;
  std::promise<size_t> seen_by_handler;
  boost::asio::post(io.at(0), [&] {
    for (int i = 1; i <= messages; ++i) {
      caf::anon_send(actor, i);
    }
    // Queued behind the actor's first turn: it runs before the actor has handled them all.
    boost::asio::post(io.at(0), [&] { seen_by_handler.set_value(log->count()); });
  });
  const auto seen = seen_by_handler.get_future().get() - 1; // less the warm-up message
  CHECK(seen > 0);
  CHECK(seen < static_cast<size_t>(messages));
  CHECK(test::eventually([&] { return log->count() == messages + 1; }, 5s));
  std::lock_guard guard{log->mutex};
  for (int i = 0; i <= messages; ++i) {
    REQUIRE(log->order[i] == i); // in order, none lost
  }
}

TEST_CASE("what an Asio thread had queued when the coordinator detaches runs on the own thread",
          "[unit][actors][io_coordinator]") {
  attached_recorder fx;
  const auto io_thread = thread_of(fx.io.at(0));

  // The Asio thread is busy; the message waits in its queue.
  std::promise<void> release;
  boost::asio::post(fx.io.at(0), [done = release.get_future().share()] { done.wait(); });
  caf::anon_send(fx.actor, 1);
  fx.node.coordinator.detach();
  REQUIRE(handled(*fx.log, 1)); // while the Asio thread is still busy
  CHECK(*fx.log->thread_of(1) != io_thread);
  release.set_value();
}
