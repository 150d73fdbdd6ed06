#include "actors/stream/stream_registry.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/pool/routing_messages.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "common/clock.hpp"
#include "common/metrics/registry.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::actors;

namespace {

/// What the registry's neighbours saw.
struct neighbours_log {
  std::vector<stream_alias> aliases;    ///< at the watcher
  std::vector<stream_account> accounts; ///< at the watcher
  std::vector<stream_turn_done> done;   ///< at the connection
  int leases = 0;                       ///< lease requests the directory holds
  int logged = 0;
};

/// The fake directory's interface: the directory's, and `put_atom, lease_reply`, with which the
/// test answers the oldest lease request it holds.
using held_directory_actor = lease_source_actor::extend<caf::reacts_to<put_atom, lease_reply>>;

/// The registry under test on CAF's test coordinator, spawning real stream actors, around typed
/// fakes: a directory that answers no lease until the test does, a request log that counts rows,
/// a watcher and a connection that record what reaches them. No stream opens an upstream socket.
struct registry_fixture : test::actor_fixture {
  registry_fixture() {
    directory = system.spawn(
      [log = log](held_directory_actor::pointer self) -> held_directory_actor::behavior_type {
        auto held = std::make_shared<std::deque<caf::typed_response_promise<lease_reply>>>();
        return {[self, log, held](lease_request&) {
                  held->push_back(self->make_response_promise<lease_reply>());
                  ++log->leases;
                  return held->back();
                },
                [held](put_atom, lease_reply& reply) {
                  held->front().deliver(std::move(reply));
                  held->pop_front();
                }};
      });
    request_log = system.spawn([log = log]() -> request_log_actor::behavior_type {
      return {[log](persistence::request_log_row&) { ++log->logged; },
              [](flush_atom) {
                return true;
              }};
    });
    watcher = system.spawn([log = log]() -> stream_watcher_actor::behavior_type {
      return {[log](stream_alias& alias) { log->aliases.push_back(alias); },
              [log](stream_account& account) {
                log->accounts.push_back(account);
              }};
    });
    connection = system.spawn([log = log]() -> stream_connection_actor::behavior_type {
      return {[](stream_frame&) {}, [log](stream_turn_done& done) { log->done.push_back(done); },
              [](stream_closed&) {
              }};
    });
    deps.emplace(stream_deps{directory, request_log, ws_transport{},
                             "http://127.0.0.1:9/backend-api", clock, metrics});
    registry = spawn_stream_registry(system, *deps);
    caf::anon_send(registry, put_atom::value, watcher);
    sched.run();
  }

  ~registry_fixture() { stop(registry, directory, request_log, watcher, connection); }

  stream_opened open(std::vector<std::string> aliases) {
    auto opened = request_of<stream_opened>(registry, stream_open{std::move(aliases), {}});
    REQUIRE(opened);
    return *opened;
  }

  uint64_t live_streams() {
    auto live = request_of<uint64_t>(registry, get_atom::value);
    REQUIRE(live);
    return *live;
  }

  /// What a stream sends its registry when it parks with a socket of `api_key` on `account`.
  void park(const stream_actor& stream, uint64_t epoch, const std::string& api_key,
            const std::string& account, int64_t per_key_limit, int64_t per_account_limit) {
    caf::anon_send(
      registry, stream_parked{stream, epoch, api_key, account, per_key_limit, per_account_limit});
  }

  /// Checks that the next message `stream` processes evicts its park `epoch` by `limit`.
  void check_evicted(const stream_actor& stream, uint64_t epoch, const std::string& limit) {
    auto evicted = next_message<stream_evict>(stream);
    REQUIRE(evicted);
    CHECK(evicted->epoch == epoch);
    CHECK(evicted->limit == limit);
  }

  std::shared_ptr<neighbours_log> log = std::make_shared<neighbours_log>();
  manual_clock clock;
  metrics::registry metrics_registry;
  gateway_metrics metrics{metrics_registry};
  held_directory_actor directory;
  request_log_actor request_log;
  stream_watcher_actor watcher;
  stream_connection_actor connection;
  std::optional<stream_deps> deps;
  stream_registry_actor registry;
};

} // namespace

TEST_CASE_METHOD(registry_fixture,
                 "the registry finds a session's stream by any of its aliases and forgets a stream "
                 "that ends",
                 "[unit][actors][stream]") {
  auto first = open({"turn-state-a", "window-a"});
  CHECK_FALSE(first.existing);
  // A reconnect naming the session by another alias (its window id) finds the same stream, and
  // its new alias joins the session.
  auto again = open({"turn-state-b", "window-a"});
  CHECK(again.existing);
  CHECK(again.stream == first.stream);
  CHECK(open({"turn-state-b"}).stream == first.stream);
  // A stream's response id becomes an alias of its session.
  caf::anon_send(registry, stream_alias{"previous-response-1", first.stream});
  sched.run();
  CHECK(open({"previous-response-1"}).stream == first.stream);
  auto other = open({"turn-state-c"});
  CHECK_FALSE(other.existing);
  CHECK(other.stream != first.stream);
  CHECK(live_streams() == 2);

  // A stream that ends loses its aliases; the registry and the other stream live on.
  stop(first.stream);
  CHECK(live_streams() == 1);
  auto fresh = open({"window-a"});
  CHECK_FALSE(fresh.existing);
  CHECK(fresh.stream != first.stream);
  CHECK(open({"turn-state-c"}).stream == other.stream);

  // An exit sent to the registry (shutdown) stops every stream it holds.
  stop(registry);
  CHECK(has_quit(other.stream));
  CHECK(has_quit(fresh.stream));
}

TEST_CASE_METHOD(registry_fixture,
                 "the registry passes what its streams learn to the watcher, and nothing of "
                 "streams it does not hold",
                 "[unit][actors][stream]") {
  auto session = open({"turn-state-a"});
  caf::anon_send(registry, stream_alias{"previous-response-1", session.stream});
  caf::anon_send(registry, stream_account{session.stream, "acct-7"});
  auto stranger = system.spawn([]() -> stream_actor::behavior_type {
    return {[](stream_attach&) {}, [](stream_detach&) {}, [](stream_turn&) {},
            [](stream_forward&) {},
            [](stream_ack&) {
            }};
  });
  caf::anon_send(registry, stream_alias{"someone-elses", stranger});
  sched.run();
  REQUIRE(log->aliases.size() == 1);
  CHECK(log->aliases[0].alias == "previous-response-1");
  CHECK(log->aliases[0].stream == session.stream);
  REQUIRE(log->accounts.size() == 1);
  CHECK(log->accounts[0].account_id == "acct-7");
  // The stranger's alias was not registered either: it opens a new stream.
  CHECK_FALSE(open({"someone-elses"}).existing);
  stop(stranger);
}

TEST_CASE_METHOD(registry_fixture,
                 "parked streams beyond a cap are evicted, the least recently parked first",
                 "[unit][actors][stream]") {
  auto s1 = open({"session-1"}).stream;
  auto s2 = open({"session-2"}).stream;
  auto s3 = open({"session-3"}).stream;
  auto s4 = open({"session-4"}).stream;
  park(s1, 5, "key-1", "acct-1", 2, 10);
  park(s2, 1, "key-1", "acct-2", 2, 10);
  sched.run();
  // A third socket of key-1 breaks its cap of 2: the registry tells s1, parked longest ago, to
  // close the socket it kept since its park 5.
  park(s3, 1, "key-1", "acct-3", 2, 10);
  sched.run_once();
  check_evicted(s1, 5, "api_key");
  CHECK_FALSE(next_message<stream_evict>(s2));
  sched.run();

  SECTION("a stream that unparks no longer counts") {
    caf::anon_send(registry, stream_unparked{s2});
    park(s4, 1, "key-1", "acct-4", 2, 10);
    sched.run_once();
    sched.run_once();
    CHECK_FALSE(next_message<stream_evict>(s2));
    CHECK_FALSE(next_message<stream_evict>(s3));
    CHECK_FALSE(next_message<stream_evict>(s4));
  }

  SECTION("a stream that ends no longer counts") {
    stop(s2);
    park(s4, 1, "key-1", "acct-4", 2, 10);
    sched.run_once();
    CHECK_FALSE(next_message<stream_evict>(s3));
    CHECK_FALSE(next_message<stream_evict>(s4));
  }

  SECTION("the per-account cap applies across keys") {
    park(s4, 2, "key-2", "acct-3", 10, 1);
    sched.run_once();
    check_evicted(s3, 1, "account");
  }
  sched.run();
}

TEST_CASE_METHOD(registry_fixture,
                 "drain answers the number of live streams once none has a turn running",
                 "[unit][actors][stream]") {
  CHECK(request_of<int64_t>(registry, drain_atom::value) == int64_t{0});
  auto busy = open({"busy"}).stream;
  open({"idle"});
  caf::anon_send(busy, stream_attach{connection, 7, {}});
  stream_turn turn;
  turn.connection_id = 7;
  turn.turn_id = 1;
  turn.request_id = "req-1";
  turn.pool_id = "pool-1";
  turn.model = "gpt-5.5";
  caf::anon_send(busy, std::move(turn));
  sched.run();
  REQUIRE(log->leases == 1); // the turn waits for its lease

  auto drained = pending_request<int64_t>(registry, drain_atom::value);
  CHECK_FALSE(drained->has_value());

  // No account: the turn ends with the gateway's error, and the drain is answered.
  lease_reply denied;
  denied.denial.code = errc::no_eligible_account;
  caf::anon_send(directory, put_atom::value, std::move(denied));
  sched.run();
  REQUIRE(drained->has_value());
  CHECK(**drained == int64_t{2});
  REQUIRE(log->done.size() == 1);
  CHECK_FALSE(log->done[0].ok);
  CHECK(to_errc(log->done[0].error) == errc::no_eligible_account);
  CHECK(log->logged == 1);
}
