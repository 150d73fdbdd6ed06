// cxp-jobbench: the job queue benchmark behind bench/jobs (see bench/README.md).
//
//   cxp-jobbench --database-url postgres://… [--jobs 10000] [--workers 2]
//
// On a migrated, empty database it measures three phases with `--jobs` no-op jobs each:
//   1. enqueue: one job at a time through job_repository::enqueue (one transaction each);
//   2. claim:   `--workers` threads each claim one due job (the workers' query, timed: the claim
//               latency) and record its success, until the queue is empty;
//   3. workers: `--workers` detached job workers (the production actor and job_runner, a no-op
//               handler) drain a fresh queue; wall time from their start to the last outcome.
// Prints one line per phase and a JSON line; exits 2 when a phase loses or duplicates a job.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/jobs/job_worker.hpp"
#include "actors/type_ids.hpp"
#include "bench/sample_stats.hpp"
#include "common/database_url.hpp"
#include "common/log.hpp"
#include "common/metrics/registry.hpp"
#include "persistence/jobs/job_repository.hpp"
#include "persistence/migrate/migrator.hpp"

namespace {

using namespace cxp;
using std::chrono::steady_clock;

struct options {
  std::string database_url;
  int jobs = 10'000;
  int workers = 2;
};

/// How long finished-job polling waits between looks at the queue in phase 3.
constexpr auto drain_poll = std::chrono::milliseconds{20};
constexpr auto idle_poll = std::chrono::milliseconds{5};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "cxp-jobbench: %s\n", why.c_str());
  std::exit(2);
}

options parse(int argc, char** argv) {
  options out;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--database-url") {
      out.database_url = value;
    } else if (flag == "--jobs") {
      out.jobs = std::stoi(value);
    } else if (flag == "--workers") {
      out.workers = std::stoi(value);
    } else {
      fail("unknown flag " + flag);
    }
  }
  if (out.database_url.empty() || out.jobs < 1 || out.workers < 1) {
    fail("usage: cxp-jobbench --database-url URL [--jobs N] [--workers N]");
  }
  return out;
}

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

double millis(steady_clock::duration span) {
  return std::chrono::duration<double, std::milli>(span).count();
}

/// Phase 1: `count` jobs, distinct keys, due at once. Answers the jobs per second.
double enqueue_all(persistence::database& db, int count, const std::string& prefix) {
  system_clock_source clock;
  persistence::job_repository jobs{db};
  const auto start = steady_clock::now();
  for (int i = 0; i < count; ++i) {
    persistence::new_job job;
    job.kind = "runtime_cleanup";
    job.unique_key = prefix + std::to_string(i);
    job.run_at = clock.now();
    job.max_attempts = 3;
    job.timeout = std::chrono::minutes{5};
    auto enqueued = jobs.enqueue(job, clock.now());
    if (!enqueued || !enqueued->created) {
      fail("enqueue failed");
    }
  }
  return count / seconds_since(start);
}

struct claim_result {
  double jobs_per_second = 0;
  std::vector<double> claim_ms; ///< sorted
  int completed = 0;
};

/// Phase 2: `workers` threads claim one job at a time and record its success.
claim_result claim_all(persistence::database& db, int workers) {
  system_clock_source clock;
  std::mutex mutex;
  claim_result result;
  std::atomic<bool> failed{false};
  const auto start = steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      persistence::job_repository jobs{db};
      std::vector<double> mine;
      int done = 0;
      for (;;) {
        const auto asked = steady_clock::now();
        auto claimed = jobs.claim("bench/w" + std::to_string(w), 1, clock.now());
        const auto answered = steady_clock::now();
        if (!claimed) {
          failed = true;
          break;
        }
        if (claimed->empty()) {
          break;
        }
        mine.push_back(millis(answered - asked));
        auto completed = jobs.complete(claimed->front(), "{}", clock.now());
        if (!completed || !*completed) {
          failed = true;
          break;
        }
        ++done;
      }
      std::lock_guard lock{mutex};
      result.claim_ms.insert(result.claim_ms.end(), mine.begin(), mine.end());
      result.completed += done;
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  if (failed) {
    fail("a claim or a completion failed");
  }
  result.jobs_per_second = result.completed / seconds_since(start);
  std::sort(result.claim_ms.begin(), result.claim_ms.end());
  return result;
}

int64_t count_state(persistence::database& db, const std::string& state) {
  auto depth = persistence::job_repository{db}.queue_depth();
  if (!depth) {
    fail("cannot read the queue depth");
  }
  int64_t total = 0;
  for (const auto& row : *depth) {
    total += state == "queued" ? row.queued : row.running;
  }
  return total;
}

/// Phase 3: the production workers drain the queue. Answers the jobs per second.
double drain_with_workers(persistence::database& db, int workers, int expected) {
  caf::actor_system_config config;
  actors::add_message_types(config);
  caf::actor_system system{config};
  system_clock_source clock;
  metrics::registry registry;
  actors::job_metrics metrics{registry};
  std::atomic<int> ran{0};
  auto handlers = std::make_shared<actors::job_handlers>();
  (*handlers)[domain::job_kind::runtime_cleanup] = [&ran](const actors::job_run&) {
    ++ran;
    return actors::job_outcome{nlohmann::json::object()};
  };
  const auto start = steady_clock::now();
  std::vector<actors::job_worker_actor> spawned;
  for (int w = 0; w < workers; ++w) {
    spawned.push_back(
      actors::spawn_job_worker(system,
                               std::make_shared<actors::job_runner>(
                                 db, handlers, clock, metrics, "bench-actor/w" + std::to_string(w)),
                               idle_poll));
  }
  while (count_state(db, "queued") > 0 || count_state(db, "running") > 0) {
    std::this_thread::sleep_for(drain_poll);
  }
  const auto rate = expected / seconds_since(start);
  for (const auto& worker : spawned) {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  }
  if (ran.load() != expected) {
    fail("the workers ran " + std::to_string(ran.load()) + " jobs, not "
         + std::to_string(expected));
  }
  const auto succeeded =
    metrics.runs.add({{"kind", "runtime_cleanup"}, {"outcome", "succeeded"}}).value();
  if (static_cast<int>(succeeded) != expected) {
    fail("the workers recorded " + std::to_string(succeeded) + " successes");
  }
  return rate;
}

} // namespace

int main(int argc, char** argv) {
  const auto opts = parse(argc, argv);
  log::init(log::level::error);
  auto url = parse_database_url(opts.database_url);
  if (!url) {
    fail("bad --database-url");
  }
  // Each worker holds one connection while it claims or records; one spare for the poller.
  auto db = persistence::database::open(*url, static_cast<size_t>(opts.workers) + 2);
  if (!db) {
    fail("cannot open the database: " + context_of(db.error()));
  }
  system_clock_source clock;
  if (!persistence::run_migrations(**db, persistence::embedded_migrations(), clock)) {
    fail("migrations failed");
  }

  const auto enqueue_rate = enqueue_all(**db, opts.jobs, "claim-");
  auto claims = claim_all(**db, opts.workers);
  if (claims.completed != opts.jobs) {
    fail("claimed " + std::to_string(claims.completed) + " jobs, not " + std::to_string(opts.jobs));
  }
  enqueue_all(**db, opts.jobs, "actor-");
  const auto worker_rate = drain_with_workers(**db, opts.workers, opts.jobs);

  const auto p50 = bench::percentile(claims.claim_ms, 0.50);
  const auto p99 = bench::percentile(claims.claim_ms, 0.99);
  const auto max = bench::percentile(claims.claim_ms, 1.0);
  std::printf("jobs %d, workers %d\n", opts.jobs, opts.workers);
  std::printf("enqueue             %9.0f jobs/s (one transaction per job)\n", enqueue_rate);
  std::printf("claim + complete    %9.0f jobs/s; claim p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              claims.jobs_per_second, p50, p99, max);
  std::printf("job workers (actor) %9.0f jobs/s (no-op handler, end to end)\n", worker_rate);
  nlohmann::json out{{"benchmark", "jobs"},
                     {"jobs", opts.jobs},
                     {"workers", opts.workers},
                     {"enqueue_jobs_per_s", std::round(enqueue_rate)},
                     {"claim_complete_jobs_per_s", std::round(claims.jobs_per_second)},
                     {"claim_p50_ms", p50},
                     {"claim_p99_ms", p99},
                     {"claim_max_ms", max},
                     {"worker_jobs_per_s", std::round(worker_rate)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
