#include <atomic>
#include <future>
#include <mutex>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "actors/jobs/job_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/metrics/registry.hpp"
#include "persistence/migrate/migrator.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using namespace cxp::actors;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const auto t0 = parse_iso8601("2026-12-04T12:00:00.000000Z").value();

persistence::database& migrated(test::test_database& database) {
  system_clock_source clock;
  REQUIRE(persistence::run_migrations(database.db(), persistence::embedded_migrations(), clock));
  return database.db();
}

persistence::new_job job_of(const std::string& kind, const std::string& key, int32_t attempts = 3) {
  persistence::new_job job;
  job.kind = kind;
  job.unique_key = key;
  job.run_at = t0;
  job.max_attempts = attempts;
  job.timeout = milliseconds{60'000};
  return job;
}

persistence::job_row row_of(persistence::database& db, const std::string& id) {
  auto row = persistence::job_repository{db}.get(id);
  REQUIRE(row);
  REQUIRE(*row);
  return **row;
}

double runs_of(job_metrics& metrics, const std::string& kind, const std::string& outcome) {
  return metrics.runs.add({{"kind", kind}, {"outcome", outcome}}).value();
}

} // namespace

TEST_CASE("a job runner records its handler's outcome, retries failures and fails unknown kinds",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  manual_clock clock{t0};
  metrics::registry registry;
  job_metrics metrics{registry};
  std::vector<job_run> seen;
  auto handlers = std::make_shared<job_handlers>();
  (*handlers)[domain::job_kind::retention] = [&seen](const job_run& run) -> job_outcome {
    seen.push_back(run);
    return nlohmann::json{{"deleted", 7}};
  };
  (*handlers)[domain::job_kind::pricing_import] = [&seen](const job_run& run) -> job_outcome {
    seen.push_back(run);
    return make_error(errc::upstream_request_failed, "feed answered 503");
  };
  (*handlers)[domain::job_kind::usage_rollup] = [](const job_run&) -> job_outcome {
    throw std::runtime_error{"boom"};
  };
  job_runner runner{db, handlers, clock, metrics, "node-1/w0"};
  persistence::job_repository jobs{db};

  CHECK_FALSE(runner.run_next());
  auto retention = jobs.enqueue(job_of("retention", "r"), t0).value().job;
  auto pricing = jobs.enqueue(job_of("pricing_import", "p", 2), t0).value().job;
  auto unknown = jobs.enqueue(job_of("no_such_kind", "u"), t0).value().job;
  auto throwing = jobs.enqueue(job_of("usage_rollup", "t", 1), t0).value().job;
  for (int i = 0; i < 4; ++i) {
    CHECK(runner.run_next());
  }
  CHECK_FALSE(runner.run_next());

  auto done = row_of(db, retention.id);
  CHECK(done.status == "succeeded");
  CHECK(done.outcome == R"({"deleted":7})");
  CHECK(done.locked_by == "node-1/w0");
  auto retried = row_of(db, pricing.id);
  CHECK(retried.status == "queued");
  CHECK(retried.last_error == "upstream_request_failed: feed answered 503");
  CHECK(retried.run_at
        == to_iso8601(t0 + domain::retry_delay(domain::job_kind::pricing_import, 1)));
  CHECK(row_of(db, unknown.id).status == "failed");
  CHECK(row_of(db, unknown.id).attempts == 1);
  auto threw = row_of(db, throwing.id);
  CHECK(threw.status == "failed");
  CHECK(threw.last_error->find("boom") != std::string::npos);

  // The retry runs when its backoff has passed, as attempt 2, and is the last.
  clock.advance(domain::retry_delay(domain::job_kind::pricing_import, 1));
  CHECK(runner.run_next());
  CHECK(row_of(db, pricing.id).status == "failed");
  // Claimed in no particular order (same run_at): the pricing runs are attempts 1 and 2.
  std::vector<int32_t> pricing_attempts;
  for (const auto& run : seen) {
    if (run.kind == domain::job_kind::pricing_import) {
      CHECK(run.id == pricing.id);
      pricing_attempts.push_back(run.attempt);
    }
  }
  CHECK(seen.size() == 3);
  CHECK(pricing_attempts == std::vector<int32_t>{1, 2});

  CHECK(runs_of(metrics, "retention", "succeeded") == 1);
  CHECK(runs_of(metrics, "pricing_import", "retried") == 1);
  CHECK(runs_of(metrics, "pricing_import", "failed") == 1);
  CHECK(runs_of(metrics, "no_such_kind", "failed") == 1);
  CHECK(metrics.duration.add({{"kind", "retention"}}).snapshot().sample_count == 1);
}

TEST_CASE("two detached workers drain the queue, each job run once, and answer a drain",
          "[integration][jobs]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = migrated(database);
  system_clock_source clock;
  metrics::registry registry;
  job_metrics metrics{registry};
  std::mutex mutex;
  std::multiset<std::string> ran;
  auto handlers = std::make_shared<job_handlers>();
  (*handlers)[domain::job_kind::runtime_cleanup] = [&](const job_run& run) -> job_outcome {
    std::lock_guard lock{mutex};
    ran.insert(run.id);
    return nlohmann::json::object();
  };
  constexpr size_t total = 40;
  for (size_t i = 0; i < total; ++i) {
    persistence::job_repository{db}.enqueue(job_of("runtime_cleanup", std::to_string(i)),
                                            clock.now());
  }

  caf::actor_system_config config;
  add_message_types(config);
  caf::actor_system system{config};
  std::vector<job_worker_actor> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(spawn_job_worker(
      system,
      std::make_shared<job_runner>(db, handlers, clock, metrics, "node/w" + std::to_string(i)),
      milliseconds{20}));
  }
  REQUIRE(test::eventually([&] {
    std::lock_guard lock{mutex};
    return ran.size() >= total;
  }));
  for (auto& worker : workers) {
    std::promise<bool> drained;
    system.spawn([&drained, worker](caf::event_based_actor* self) {
      self->request(worker, std::chrono::seconds{10}, drain_atom::value)
        .then([&drained](bool ok) { drained.set_value(ok); },
              [&drained](caf::error&) { drained.set_value(false); });
    });
    CHECK(drained.get_future().get());
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  }
  std::set<std::string> distinct(ran.begin(), ran.end());
  CHECK(ran.size() == total);
  CHECK(distinct.size() == total);
  auto succeeded =
    persistence::job_repository{db}.list({std::string{"runtime_cleanup"}, std::string{"succeeded"},
                                          std::nullopt, std::nullopt, std::nullopt, 100});
  CHECK(succeeded->size() == total);
}
