#include "actors/jobs/job_scheduler.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/jobs/queue_keeper.hpp"
#include "actors/jobs/scheduler_leader.hpp"
#include "common/errc.hpp"
#include "common/metrics/registry.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::actors;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr auto lease_ttl = milliseconds{3'000};
constexpr auto every = milliseconds{10'000};
constexpr auto step = milliseconds{100};
constexpr auto kinds = domain::all_job_kinds.size();

/// One scheduled enqueue the fake database accepted.
struct accepted_job {
  std::string node_id;
  std::string kind;
  std::string key;
  int64_t epoch;
  caf::actor_addr sender;
};

/// The database as the scheduler group sees it, in memory: the lease and the scheduled keys
/// decided as the repositories decide them, on the test's clock. `down` makes every call fail.
struct fake_database {
  explicit fake_database(const manual_clock& c) : clock(c) {}

  const manual_clock& clock;
  std::optional<persistence::scheduler_lease_row> lease;
  std::set<std::string> keys;
  std::vector<accepted_job> accepted;
  int refused = 0;
  int rescues = 0;
  int releases = 0;
  bool down = false;
  job_queue_stats stats;

  bool holds(const persistence::lease_fence& fence) const {
    return lease && lease->holder_node_id == fence.node_id && lease->epoch == fence.epoch
           && parse_iso8601(lease->expires_at).value() > clock.now();
  }

  persistence::scheduler_lease_row acquire(const scheduler_lease_request& request) {
    const auto now = clock.now();
    const auto expires = to_iso8601(now + request.ttl);
    if (!lease) {
      lease = persistence::scheduler_lease_row{request.node_id, 1, expires};
    } else if (lease->holder_node_id == request.node_id
               && parse_iso8601(lease->expires_at).value() > now) {
      lease->expires_at = expires;
    } else if (parse_iso8601(lease->expires_at).value() <= now) {
      *lease = {request.node_id, lease->epoch + 1, expires};
    }
    return *lease;
  }

  /// Accepted enqueues per node.
  std::map<std::string, size_t> by_node() const {
    std::map<std::string, size_t> out;
    for (const auto& job : accepted) {
      ++out[job.node_id];
    }
    return out;
  }
};

job_store_actor spawn_fake_store(caf::actor_system& system, std::shared_ptr<fake_database> db) {
  return system.spawn([db](job_store_actor::pointer self) -> job_store_actor::behavior_type {
    auto unavailable = [] {
      return make_error(errc::database_unavailable, "fake outage");
    };
    return {
      [db, unavailable](lease_atom, scheduler_lease_request& request)
        -> caf::result<persistence::scheduler_lease_row> {
        if (db->down) {
          return unavailable();
        }
        return db->acquire(request);
      },
      [db, unavailable](release_atom, persistence::lease_fence& fence) -> caf::result<bool> {
        if (db->down) {
          return unavailable();
        }
        ++db->releases;
        if (!db->holds(fence)) {
          return false;
        }
        db->lease->expires_at = to_iso8601(db->clock.now());
        return true;
      },
      [self, db, unavailable](persistence::new_job& job, persistence::lease_fence& fence)
        -> caf::result<persistence::scheduled_enqueue> {
        if (db->down) {
          return unavailable();
        }
        if (!db->holds(fence)) {
          ++db->refused;
          return persistence::scheduled_enqueue::not_leader;
        }
        if (!db->keys.insert(job.unique_key).second) {
          return persistence::scheduled_enqueue::duplicate;
        }
        db->accepted.push_back({fence.node_id, job.kind, job.unique_key, fence.epoch,
                                caf::actor_cast<caf::actor_addr>(self->current_sender())});
        return persistence::scheduled_enqueue::created;
      },
      [db, unavailable](rescue_atom) -> caf::result<job_upkeep> {
        if (db->down) {
          return unavailable();
        }
        ++db->rescues;
        return job_upkeep{{2, 1}, 0};
      },
      [db, unavailable](stats_atom) -> caf::result<job_queue_stats> {
        if (db->down) {
          return unavailable();
        }
        return db->stats;
      },
    };
  });
}

/// Scheduler groups of several "nodes" on CAF's test coordinator, sharing one fake database;
/// the wall clock the actors read moves in step with the coordinator's.
struct scheduler_fixture : test::actor_fixture {
  manual_clock clock{parse_iso8601("2026-12-04T12:00:00.000000Z").value()};
  std::shared_ptr<fake_database> database = std::make_shared<fake_database>(clock);
  job_store_actor store = spawn_fake_store(system, database);
  metrics::registry registry;
  job_metrics metrics{registry};
  metrics::counter& restarts =
    metrics::build_counter().name("test_restarts_total").help("t").register_(registry).add({});
  /// The metrics of the second node: each process has its own registry.
  metrics::registry other_registry;
  job_metrics other_metrics{other_registry};

  ~scheduler_fixture() { stop(store); }

  /// Node "node-a" reports to `metrics`, any other node to `other_metrics`.
  job_scheduler_actor spawn_group(const std::string& node_id) {
    auto group = spawn_job_scheduler(system, store,
                                     {node_id,
                                      lease_ttl,
                                      seconds{1},
                                      {every, std::nullopt},
                                      clock,
                                      node_id == "node-a" ? metrics : other_metrics,
                                      restarts});
    sched.run();
    return group;
  }

  /// Moves both clocks by `span`, in steps, running whatever falls due.
  void advance(milliseconds span) {
    for (auto passed = milliseconds{0}; passed < span; passed += step) {
      clock.advance(step);
      sched.advance_time(step);
      sched.run();
    }
  }

  bool leads(const job_scheduler_actor& group) {
    return request_of<bool>(group, get_atom::value).value();
  }
};

} // namespace

TEST_CASE("leadership state: a holder leads in the lease's epoch; a standby asks when it expires",
          "[unit][actors][jobs]") {
  const auto t0 = parse_iso8601("2026-12-04T12:00:00.000000Z").value();
  leadership_state a{"node-a", lease_ttl};
  CHECK_FALSE(a.leading());
  CHECK(a.next_attempt(t0) == milliseconds{1'000});

  CHECK(a.on_lease({"node-a", 4, to_iso8601(t0 + lease_ttl)}, t0));
  CHECK(a.leading());
  CHECK(a.epoch() == 4);
  CHECK_FALSE(a.on_lease({"node-a", 4, to_iso8601(t0 + seconds{4})}, t0 + seconds{1}));
  CHECK(a.next_attempt(t0) == milliseconds{1'000});
  // An unanswered renewal keeps the lease until it runs out.
  CHECK_FALSE(a.on_failure(t0 + seconds{3}));
  CHECK(a.leading());
  CHECK(a.on_failure(t0 + seconds{4}));
  CHECK_FALSE(a.leading());
  CHECK(a.epoch() == 0);

  leadership_state b{"node-b", lease_ttl};
  CHECK_FALSE(b.on_lease({"node-a", 4, to_iso8601(t0 + milliseconds{500})}, t0));
  CHECK_FALSE(b.leading());
  // Just past the lease it saw, not a whole renewal interval later.
  CHECK(b.next_attempt(t0) == milliseconds{505});
  CHECK(b.on_lease({"node-b", 5, to_iso8601(t0 + seconds{4})}, t0 + seconds{1}));
  CHECK(b.epoch() == 5);
}

TEST_CASE_METHOD(scheduler_fixture,
                 "of two scheduler groups only the lease holder enqueues, each kind once a slot",
                 "[unit][actors][jobs]") {
  auto a = spawn_group("node-a");
  auto b = spawn_group("node-b");
  CHECK(leads(a));
  CHECK_FALSE(leads(b));
  CHECK(metrics.scheduler_leader.value() == 1);
  CHECK(other_metrics.scheduler_leader.value() == 0);
  // The first slot's runs are queued as the lease is won, then one per kind at each boundary.
  CHECK(database->accepted.size() == kinds);
  advance(milliseconds{35'000});
  CHECK(database->by_node() == std::map<std::string, size_t>{{"node-a", 4 * kinds}});
  CHECK(database->keys.size() == 4 * kinds);
  CHECK(database->refused == 0);
  stop(a, b);
}

TEST_CASE_METHOD(scheduler_fixture,
                 "a standby takes over within the lease TTL after the leader stops renewing",
                 "[unit][actors][jobs]") {
  auto a = spawn_group("node-a");
  auto b = spawn_group("node-b");
  advance(milliseconds{2'000});
  REQUIRE(leads(a));
  const auto last_renewal = parse_iso8601(database->lease->expires_at).value() - lease_ttl;
  // Node a dies without draining: its lease stays until it expires.
  stop(a);
  const auto died = clock.now();
  while (!leads(b)) {
    REQUIRE(clock.now() - died < lease_ttl + seconds{1});
    advance(step);
  }
  CHECK(clock.now() - last_renewal <= lease_ttl + milliseconds{2 * step.count()});
  CHECK(database->lease->holder_node_id == "node-b");
  CHECK(database->lease->epoch == 2);
  // Node b queues the current slot's runs only if they are missing: they were not.
  const auto before = database->accepted.size();
  advance(every);
  CHECK(database->by_node().at("node-b") == kinds);
  CHECK(database->accepted.size() == before + kinds);
  stop(b);
}

TEST_CASE_METHOD(scheduler_fixture, "a drained leader releases the lease and enqueues no more",
                 "[unit][actors][jobs]") {
  auto a = spawn_group("node-a");
  auto b = spawn_group("node-b");
  REQUIRE(leads(a));
  CHECK(request_of<bool>(a, drain_atom::value).value());
  CHECK(database->releases == 1);
  CHECK_FALSE(leads(a));
  CHECK(metrics.scheduler_leader.value() == 0);
  // Node b asks at its next renewal interval and finds the lease free.
  advance(milliseconds{1'100});
  CHECK(leads(b));
  CHECK(other_metrics.scheduler_leader.value() == 1);
  advance(every);
  CHECK(database->by_node().count("node-a") == 1);
  CHECK(database->by_node().at("node-a") == kinds);
  stop(a, b);
}

TEST_CASE_METHOD(scheduler_fixture,
                 "a leader that cannot reach the database steps down when its lease runs out",
                 "[unit][actors][jobs]") {
  auto a = spawn_group("node-a");
  REQUIRE(leads(a));
  database->down = true;
  advance(milliseconds{2'000});
  CHECK(leads(a));
  advance(milliseconds{1'500});
  CHECK_FALSE(leads(a));
  CHECK(metrics.scheduler_leader.value() == 0);
  database->down = false;
  advance(milliseconds{1'100});
  CHECK(leads(a));
  CHECK(database->lease->epoch == 2);
  stop(a);
}

TEST_CASE_METHOD(scheduler_fixture, "a kind scheduler that fails is spawned again and schedules on",
                 "[unit][actors][jobs]") {
  auto a = spawn_group("node-a");
  REQUIRE(database->accepted.size() == kinds);
  const auto victim = database->accepted.front();
  caf::anon_send_exit(victim.sender, caf::exit_reason::kill);
  sched.run();
  CHECK(restarts.value() == 1);
  // The new actor hears the leadership at once: its slot run exists, so nothing is added.
  CHECK(database->accepted.size() == kinds);
  advance(every + step); // just past the boundary
  std::set<caf::actor_addr> senders;
  for (const auto& job : database->accepted) {
    if (job.kind == victim.kind) {
      senders.insert(job.sender);
    }
  }
  CHECK(senders.size() == 2);
  CHECK(database->accepted.size() == 2 * kinds);
  stop(a);
}

TEST_CASE_METHOD(scheduler_fixture,
                 "the queue keeper rescues only while leading and publishes the queue's gauges",
                 "[unit][actors][jobs]") {
  database->stats.depth = {{"retention", 3, 1}};
  database->stats.runs = {{"retention", to_iso8601(clock.now() - seconds{90}), std::nullopt}};
  auto keeper = spawn_queue_keeper(system, store, {seconds{1}, clock, metrics});
  sched.run();
  CHECK(database->rescues == 0);
  const metrics::labels retention{{"kind", "retention"}};
  CHECK(metrics.queue_depth.add(retention).value() == 3);
  CHECK(metrics.running.add(retention).value() == 1);
  CHECK(metrics.queue_depth.add({{"kind", "catalog_sync"}}).value() == 0);
  CHECK(metrics.last_success_age.add(retention).value() == Approx(90));
  CHECK_FALSE(metrics.last_success_age.has({{"kind", "catalog_sync"}}));

  caf::anon_send(keeper, leader_atom::value, true, int64_t{1});
  sched.run();
  CHECK(database->rescues == 1); // at once
  advance(milliseconds{2'000});
  CHECK(database->rescues == 3);
  CHECK(metrics.rescued.add({}).value() == 9);
  CHECK(metrics.last_success_age.add(retention).value() == Approx(92));
  caf::anon_send(keeper, leader_atom::value, false, int64_t{0});
  sched.run();
  advance(milliseconds{2'000});
  CHECK(database->rescues == 3);
  stop(keeper);
}
