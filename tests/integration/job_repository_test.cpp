#include "persistence/jobs/job_repository.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "persistence/jobs/scheduler_lease_repository.hpp"
#include "persistence/migrate/migrator.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using namespace cxp::persistence;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const auto t0 = parse_iso8601("2026-12-04T12:00:00.000000Z").value();
constexpr auto lease_ttl = milliseconds{30'000};

/// The suite's PostgreSQL template may predate the newest migrations; apply what is pending.
database& migrated(test::test_database& database) {
  system_clock_source clock;
  REQUIRE(run_migrations(database.db(), embedded_migrations(), clock));
  return database.db();
}

new_job job_of(const std::string& kind, const std::string& key, time_point run_at = t0,
               int32_t max_attempts = 3, milliseconds timeout = milliseconds{60'000}) {
  new_job job;
  job.kind = kind;
  job.unique_key = key;
  job.run_at = run_at;
  job.max_attempts = max_attempts;
  job.timeout = timeout;
  return job;
}

std::string status_of(database& db, const std::string& id) {
  auto row = job_repository{db}.get(id);
  REQUIRE(row);
  REQUIRE(*row);
  return (*row)->status;
}

} // namespace

TEST_CASE("a job is not enqueued twice while one with its unique key is incomplete",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  job_repository jobs{db};

  auto first = jobs.enqueue(job_of("retention", "manual:retention"), t0);
  REQUIRE(first);
  CHECK(first->created);
  CHECK(first->job.status == "queued");
  CHECK(first->job.max_attempts == 3);
  CHECK(first->job.timeout_ms == 60'000);
  auto again = jobs.enqueue(job_of("retention", "manual:retention"), t0 + seconds{1});
  REQUIRE(again);
  CHECK_FALSE(again->created);
  CHECK(again->job.id == first->job.id);

  // Running still counts as incomplete; once it succeeded the key is free again.
  auto claimed = jobs.claim("worker-1", 5, t0 + seconds{2});
  REQUIRE(claimed);
  REQUIRE(claimed->size() == 1);
  CHECK_FALSE(jobs.enqueue(job_of("retention", "manual:retention"), t0 + seconds{3})->created);
  REQUIRE(jobs.complete(claimed->front(), R"({"deleted":0})", t0 + seconds{4}).value());
  auto after = jobs.enqueue(job_of("retention", "manual:retention"), t0 + seconds{5});
  REQUIRE(after);
  CHECK(after->created);
  CHECK(after->job.id != first->job.id);
}

TEST_CASE("claims take due jobs oldest first, count the attempt and lock each until its timeout",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  job_repository jobs{db};

  REQUIRE(jobs.enqueue(job_of("usage_rollup", "b", t0 + seconds{2}), t0));
  REQUIRE(jobs.enqueue(job_of("retention", "a", t0 + seconds{1}, 3, milliseconds{5'000}), t0));
  REQUIRE(jobs.enqueue(job_of("catalog_sync", "later", t0 + seconds{60}), t0));

  auto claimed = jobs.claim("worker-1", 10, t0 + seconds{10});
  REQUIRE(claimed);
  REQUIRE(claimed->size() == 2);
  std::sort(claimed->begin(), claimed->end(),
            [](const auto& x, const auto& y) { return x.job.run_at < y.job.run_at; });
  const auto& first = claimed->at(0).job;
  CHECK(first.unique_key == "a");
  CHECK(first.status == "running");
  CHECK(first.attempts == 1);
  CHECK(first.locked_by == "worker-1");
  CHECK(first.started_at == to_iso8601(t0 + seconds{10}));
  CHECK(first.locked_until == to_iso8601(t0 + seconds{15}));
  CHECK(claimed->at(1).job.locked_until == to_iso8601(t0 + seconds{70}));
  CHECK(jobs.get(first.id).value()->locked_until == to_iso8601(t0 + seconds{15}));

  // A claim takes no more than its limit, however many are due.
  for (int i = 0; i < 4; ++i) {
    REQUIRE(jobs.enqueue(job_of("retention", "same-time-" + std::to_string(i)), t0));
  }
  CHECK(jobs.claim("worker-3", 1, t0 + seconds{10})->size() == 1);
  CHECK(jobs.claim("worker-3", 2, t0 + seconds{10})->size() == 2);
  int64_t running = 0;
  const auto depths = jobs.queue_depth().value();
  for (const auto& depth : depths) {
    running += depth.running;
  }
  CHECK(running == 5);
  CHECK(jobs.claim("worker-3", 5, t0 + seconds{10})->size() == 1);

  // Nothing else is due; the later job comes when its time does, one claim at a time.
  CHECK(jobs.claim("worker-2", 10, t0 + seconds{10})->empty());
  auto later = jobs.claim("worker-2", 1, t0 + seconds{61});
  REQUIRE(later->size() == 1);
  CHECK(later->front().job.unique_key == "later");
}

TEST_CASE("two workers claiming at once never get the same job", "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  constexpr int total = 60;
  for (int i = 0; i < total; ++i) {
    REQUIRE(job_repository{db}.enqueue(job_of("retention", "job-" + std::to_string(i)), t0));
  }
  std::mutex mutex;
  std::multiset<std::string> seen;
  std::atomic<int> errors{0};
  auto work = [&](const std::string& worker) {
    job_repository jobs{db};
    for (;;) {
      auto claimed = jobs.claim(worker, 2, t0 + seconds{1});
      if (!claimed) {
        // SQLite may answer busy under contention; the next round retries.
        errors.fetch_add(1);
        if (errors.load() > 1000) {
          return;
        }
        continue;
      }
      if (claimed->empty()) {
        return;
      }
      for (const auto& claim : *claimed) {
        std::lock_guard lock{mutex};
        seen.insert(claim.job.id);
      }
    }
  };
  std::thread a{work, "worker-a"};
  std::thread b{work, "worker-b"};
  a.join();
  b.join();
  CHECK(seen.size() == total);
  std::set<std::string> distinct(seen.begin(), seen.end());
  CHECK(distinct.size() == total);
}

TEST_CASE("a run's outcome and its failures are recorded against its claim only",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  job_repository jobs{db};
  REQUIRE(jobs.enqueue(job_of("pricing_import", "p", t0, 2), t0));

  // First attempt fails and is retried later; the second fails for good.
  auto first = jobs.claim("worker-1", 1, t0)->at(0);
  CHECK(jobs.fail(first, "feed unreachable", t0 + seconds{1}, t0 + seconds{31}).value()
        == failure_recorded::retried);
  auto row = jobs.get(first.job.id).value().value();
  CHECK(row.status == "queued");
  CHECK(row.run_at == to_iso8601(t0 + seconds{31}));
  CHECK(row.last_error == "feed unreachable");
  CHECK(jobs.claim("worker-1", 1, t0 + seconds{30})->empty());
  auto second = jobs.claim("worker-1", 1, t0 + seconds{31})->at(0);
  CHECK(second.job.attempts == 2);
  CHECK(second.claim_token != first.claim_token);
  // The first claim's token no longer records anything.
  CHECK_FALSE(jobs.complete(first, "{}", t0 + seconds{32}).value());
  CHECK(jobs.fail(first, "late", t0 + seconds{32}, std::nullopt).value() == failure_recorded::lost);
  CHECK(jobs.fail(second, "still unreachable", t0 + seconds{33}, std::nullopt).value()
        == failure_recorded::failed);
  row = jobs.get(first.job.id).value().value();
  CHECK(row.status == "failed");
  CHECK(row.finished_at == to_iso8601(t0 + seconds{33}));
  CHECK(row.last_error == "still unreachable");

  REQUIRE(jobs.enqueue(job_of("pricing_import", "q"), t0 + seconds{40}));
  auto third = jobs.claim("worker-2", 1, t0 + seconds{40})->at(0);
  REQUIRE(jobs.complete(third, R"({"snapshots":1})", t0 + seconds{41}).value());
  row = jobs.get(third.job.id).value().value();
  CHECK(row.status == "succeeded");
  CHECK(row.outcome == R"({"snapshots":1})");
  CHECK(row.locked_by == "worker-2");
  auto runs = jobs.kind_runs().value();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].kind == "pricing_import");
  CHECK(runs[0].last_success_at == to_iso8601(t0 + seconds{41}));
  CHECK(runs[0].last_failure_at == to_iso8601(t0 + seconds{33}));
}

TEST_CASE("claims older than their timeout are rescued, or failed when out of attempts",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  job_repository jobs{db};
  REQUIRE(jobs.enqueue(job_of("retention", "r", t0, 2, milliseconds{10'000}), t0));
  REQUIRE(jobs.enqueue(job_of("usage_rollup", "u", t0, 1, milliseconds{10'000}), t0));
  auto claimed = jobs.claim("dead-worker", 5, t0).value();
  REQUIRE(claimed.size() == 2);

  auto early = jobs.rescue_expired(t0 + seconds{10}).value();
  CHECK(early.requeued == 0);
  CHECK(early.failed == 0);
  auto rescued = jobs.rescue_expired(t0 + seconds{11}).value();
  CHECK(rescued.requeued == 1);
  CHECK(rescued.failed == 1);
  for (const auto& claim : claimed) {
    CHECK(status_of(db, claim.job.id) == (claim.job.kind == "retention" ? "queued" : "failed"));
  }
  // The dead worker's late answer is refused; a live worker runs it again.
  CHECK_FALSE(jobs.complete(claimed[0], "{}", t0 + seconds{12}).value());
  CHECK_FALSE(jobs.complete(claimed[1], "{}", t0 + seconds{12}).value());
  auto again = jobs.claim("live-worker", 5, t0 + seconds{12}).value();
  REQUIRE(again.size() == 1);
  CHECK(again[0].job.kind == "retention");
  CHECK(again[0].job.attempts == 2);
  CHECK(again[0].job.last_error.has_value());
  CHECK(jobs.complete(again[0], "{}", t0 + seconds{13}).value());
}

TEST_CASE("jobs are listed newest first with filters and keyset pages, counted and pruned",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  job_repository jobs{db};
  for (int i = 0; i < 5; ++i) {
    auto job = job_of(i % 2 == 0 ? "retention" : "catalog_sync", "k" + std::to_string(i));
    if (i == 3) {
      job.pool_id = "pool-3";
    }
    REQUIRE(jobs.enqueue(job, t0 + seconds{i}));
  }
  auto page =
    jobs.list({std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 2}).value();
  REQUIRE(page.size() == 2);
  CHECK(page[0].unique_key == "k4");
  CHECK(page[1].unique_key == "k3");
  auto next = jobs
                .list({std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                       page[1].created_at + "|" + page[1].id, 2})
                .value();
  REQUIRE(next.size() == 2);
  CHECK(next[0].unique_key == "k2");
  auto retention =
    jobs.list({"retention", "queued", std::nullopt, std::nullopt, std::nullopt, 50}).value();
  CHECK(retention.size() == 3);
  auto scoped = jobs
                  .list({std::nullopt, std::nullopt, std::nullopt,
                         std::vector<std::string>{"pool-3"}, std::nullopt, 50})
                  .value();
  REQUIRE(scoped.size() == 1);
  CHECK(scoped[0].pool_id == "pool-3");

  auto claimed = jobs.claim("w", 1, t0 + seconds{10}).value();
  REQUIRE(claimed.size() == 1);
  auto depth = jobs.queue_depth().value();
  REQUIRE(depth.size() == 2);
  int64_t queued = 0;
  int64_t running = 0;
  for (const auto& row : depth) {
    queued += row.queued;
    running += row.running;
  }
  CHECK(queued == 4);
  CHECK(running == 1);

  REQUIRE(jobs.complete(claimed[0], "{}", t0 + seconds{20}));
  CHECK(jobs.prune_finished(t0 + seconds{20}, 1).value() == 0);
  CHECK(jobs.prune_finished(t0 + seconds{21}, 1).value() == 1);
  CHECK_FALSE(jobs.get(claimed[0].job.id).value().has_value());
  CHECK(
    jobs.list({std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 50})->size()
    == 4);
}

TEST_CASE("one node holds the scheduler lease; a standby takes it in a new epoch once it expires",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  scheduler_lease_repository leases{db};

  auto a = leases.acquire("node-a", t0, lease_ttl).value();
  CHECK(a.holder_node_id == "node-a");
  CHECK(a.epoch == 1);
  CHECK(leases.acquire("node-b", t0 + seconds{1}, lease_ttl)->holder_node_id == "node-a");
  auto renewed = leases.acquire("node-a", t0 + seconds{10}, lease_ttl).value();
  CHECK(renewed.epoch == 1);
  CHECK(renewed.expires_at == to_iso8601(t0 + seconds{40}));
  CHECK(leases.acquire("node-b", t0 + seconds{39}, lease_ttl)->holder_node_id == "node-a");

  auto b = leases.acquire("node-b", t0 + seconds{40}, lease_ttl).value();
  CHECK(b.holder_node_id == "node-b");
  CHECK(b.epoch == 2);
  // The old holder cannot renew into the new epoch, nor release it.
  CHECK(leases.acquire("node-a", t0 + seconds{41}, lease_ttl)->holder_node_id == "node-b");
  CHECK_FALSE(leases.release("node-a", 1, t0 + seconds{41}).value());

  // A drained holder releases: the standby takes over at once.
  CHECK(leases.release("node-b", 2, t0 + seconds{42}).value());
  auto a_again = leases.acquire("node-a", t0 + seconds{42}, lease_ttl).value();
  CHECK(a_again.holder_node_id == "node-a");
  CHECK(a_again.epoch == 3);
}

TEST_CASE("a scheduled enqueue is fenced by the lease, once per slot, and never piles up",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  job_repository jobs{db};
  scheduler_lease_repository leases{db};
  auto scheduled = [](const std::string& key) {
    auto job = job_of("quota_reconciliation", key);
    job.origin = "schedule";
    job.enqueued_by = "node-a";
    return job;
  };

  CHECK(jobs.enqueue_scheduled(scheduled("slot-1"), {"node-a", 1}, t0).value()
        == scheduled_enqueue::not_leader);
  auto lease = leases.acquire("node-a", t0, lease_ttl).value();
  const lease_fence fence{"node-a", lease.epoch};
  CHECK(jobs.enqueue_scheduled(scheduled("slot-1"), fence, t0).value()
        == scheduled_enqueue::created);
  CHECK(jobs.enqueue_scheduled(scheduled("slot-1"), fence, t0).value()
        == scheduled_enqueue::duplicate);
  // While slot 1 waits in the queue, slot 2 adds nothing.
  CHECK(jobs.enqueue_scheduled(scheduled("slot-2"), fence, t0 + seconds{1}).value()
        == scheduled_enqueue::duplicate);
  auto claimed = jobs.claim("w", 1, t0 + seconds{2}).value();
  REQUIRE(claimed.size() == 1);
  REQUIRE(jobs.complete(claimed[0], "{}", t0 + seconds{3}).value());
  // Slot 1 ran: a new leader does not run it again; slot 2 is queued.
  CHECK(jobs.enqueue_scheduled(scheduled("slot-1"), fence, t0 + seconds{4}).value()
        == scheduled_enqueue::duplicate);
  CHECK(jobs.enqueue_scheduled(scheduled("slot-2"), fence, t0 + seconds{4}).value()
        == scheduled_enqueue::created);
  // A lapsed lease fences its old epoch out.
  CHECK(jobs.enqueue_scheduled(scheduled("slot-3"), fence, t0 + seconds{31}).value()
        == scheduled_enqueue::not_leader);
  auto rows =
    jobs.list({std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 50}).value();
  CHECK(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(row.origin == "schedule");
    CHECK(row.enqueued_by == "node-a");
  }
}
