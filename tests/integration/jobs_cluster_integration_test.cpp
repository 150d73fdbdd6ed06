#include <chrono>
#include <csignal>
#include <future>
#include <memory>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "domain/jobs/job_kind.hpp"
#include "persistence/cluster_nodes/cluster_node_repository.hpp"
#include "persistence/jobs/job_repository.hpp"
#include "persistence/jobs/scheduler_lease_repository.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr auto lease_ttl = milliseconds{3'000};
constexpr auto job_timeout = milliseconds{3'000};
constexpr auto wait_limit = std::chrono::seconds{20};
constexpr auto poll_interval = milliseconds{50};

/// The jobs of the test's database, newest first.
std::vector<persistence::job_row> all_jobs(persistence::database& db) {
  auto rows = persistence::job_repository{db}.list(
    {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, 200});
  REQUIRE(rows);
  return *rows;
}

std::string lease_holder(persistence::database& db) {
  auto lease = persistence::scheduler_lease_repository{db}.current();
  return lease && *lease ? (*lease)->holder_node_id : std::string{};
}

/// The id the process named `name` registered in `cluster_nodes` (waited for).
std::string node_id(persistence::database& db, const std::string& name) {
  std::string id;
  REQUIRE(test::eventually(
    [&] {
      const auto nodes = persistence::cluster_node_repository{db}.list().value();
      for (const auto& node : nodes) {
        if (node.name == name) {
          id = node.id;
        }
      }
      return !id.empty();
    },
    wait_limit, poll_interval));
  return id;
}

bool claimed_by(const persistence::job_row& job, const std::string& node) {
  return job.locked_by && job.locked_by->rfind(node + "/", 0) == 0;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

/// Holds `LOCK TABLE job_kind_runs IN EXCLUSIVE MODE` in an open transaction until released:
/// a worker's claim and its handler go through, but recording the outcome (which writes the
/// kind's last run) waits, so the job stays claimed for as long as the test wants.
class outcome_gate {
public:
  explicit outcome_gate(persistence::database& db) {
    auto locked = std::make_shared<std::promise<void>>();
    auto taken = locked->get_future();
    holder_ = std::thread{[&db, locked, opened = release_.get_future().share()] {
      auto held = db.transact([&](persistence::unit_of_work& work) {
        work.session() << "LOCK TABLE job_kind_runs IN EXCLUSIVE MODE";
        locked->set_value();
        opened.wait();
      });
      (void)held; // rolled back: it only ever held the lock
    }};
    taken.wait();
  }
  ~outcome_gate() { open(); }

  void open() {
    if (holder_.joinable()) {
      release_.set_value();
      holder_.join();
    }
  }

private:
  std::promise<void> release_;
  std::thread holder_;
};

} // namespace

TEST_CASE("web, worker and two schedulers: one scheduler enqueues, a standby takes over a killed "
          "leader within the TTL, a killed worker's job runs again, the web node runs no job",
          "[integration][jobs]") {
  test::pooler_fixture::options opts;
  opts.accounts = 2;
  opts.start_gateway = false;
  test::pooler_fixture f{opts};
  auto& db = f.database().db();

  // The web node talks to its own fake upstream (holding the same accounts), so every request
  // that reaches it came from the web node.
  test::fake_upstream web_upstream;
  REQUIRE_FALSE(web_upstream.start());
  for (const auto& [fake_id, row_id] : f.account_ids()) {
    web_upstream.set_account(*f.upstream().account(fake_id));
  }
  auto env_for = [&](const std::string& role, const std::string& name) {
    auto env = f.env();
    env["CODEX_POOLER_ROLE"] = role;
    env["CODEX_POOLER_NODE_NAME"] = name;
    env["CODEX_POOLER_SCHEDULER_LEASE_TTL_MS"] = std::to_string(lease_ttl.count());
    env["CODEX_POOLER_JOB_TIMEOUT_MS"] = std::to_string(job_timeout.count());
    env["CODEX_POOLER_JOB_EVERY_MS"] = "1000";
    env["CODEX_POOLER_JOB_POLL_MS"] = "100";
    env["CODEX_POOLER_JOB_WORKERS"] = "1";
    return env;
  };
  auto web_env = env_for("web", "web-1");
  const auto web_base = "http://127.0.0.1:" + std::to_string(web_upstream.port());
  web_env["CODEX_POOLER_UPSTREAM_BASE_URL"] = web_base + "/backend-api";
  web_env["CODEX_POOLER_OAUTH_TOKEN_URL"] = web_base + "/oauth/token";

  test::gateway_process web{web_env};
  const auto web_id = node_id(db, "web-1");
  REQUIRE(f.turn_via(web.port()).status == 200);

  auto leader = std::make_unique<test::gateway_process>(env_for("scheduler", "scheduler-1"));
  const auto leader_id = node_id(db, "scheduler-1");
  REQUIRE(
    test::eventually([&] { return lease_holder(db) == leader_id; }, wait_limit, poll_interval));
  test::gateway_process standby{env_for("scheduler", "scheduler-2")};
  const auto standby_id = node_id(db, "scheduler-2");
  auto worker = std::make_unique<test::gateway_process>(env_for("worker", "worker-1"));
  const auto worker_id = node_id(db, "worker-1");

  // Every kind is scheduled by the leader alone and run by the worker (all but the pricing
  // import, whose feed is on the internet: it fails and waits for its retry).
  REQUIRE(test::eventually(
    [&] {
      std::set<std::string> kinds;
      for (const auto& job : all_jobs(db)) {
        if (job.status == "succeeded" && claimed_by(job, worker_id)) {
          kinds.insert(job.kind);
        }
      }
      return kinds.size() == domain::all_job_kinds.size() - 1;
    },
    wait_limit, poll_interval));
  for (const auto& job : all_jobs(db)) {
    if (job.origin == "schedule") {
      CHECK(job.enqueued_by == leader_id);
    }
  }
  CHECK(lease_holder(db) == leader_id);
  // The leader's gauges follow the database at its keeper's pace (a third of the lease TTL).
  std::string leader_metrics;
  CHECK(test::eventually(
    [&] {
      leader_metrics = test::http_get(leader->port(), "/metrics").body;
      return leader_metrics.find("codex_pooler_job_last_success_age_seconds{kind=\"retention\"}")
             != std::string::npos;
    },
    wait_limit, poll_interval));
  CHECK(has_line(leader_metrics, "codex_pooler_scheduler_leader 1"));
  CHECK(leader_metrics.find("codex_pooler_job_queue_depth{kind=\"retention\"}")
        != std::string::npos);
  CHECK(
    has_line(test::http_get(standby.port(), "/metrics").body, "codex_pooler_scheduler_leader 0"));
  const auto worker_metrics = test::http_get(worker->port(), "/metrics").body;
  CHECK(worker_metrics.find("codex_pooler_jobs_total{kind=\"retention\",outcome=\"succeeded\"}")
        != std::string::npos);

  // SIGKILL the leader: its lease is never released, and the standby takes it once it expires.
  leader->stop(SIGKILL, std::chrono::seconds{5});
  const auto killed_at = std::chrono::steady_clock::now();
  REQUIRE(
    test::eventually([&] { return lease_holder(db) == standby_id; }, wait_limit, poll_interval));
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  CHECK(takeover <= lease_ttl + milliseconds{1'000});
  REQUIRE(test::eventually(
    [&] {
      for (const auto& job : all_jobs(db)) {
        if (job.enqueued_by == standby_id) {
          return true;
        }
      }
      return false;
    },
    wait_limit, poll_interval));
  CHECK(
    has_line(test::http_get(standby.port(), "/metrics").body, "codex_pooler_scheduler_leader 1"));

  // A worker SIGKILLed while it holds a claim (its outcome held back by the gate): the job goes
  // back to the queue after its timeout and another worker runs it.
  std::string stuck_id;
  {
    outcome_gate gate{db};
    REQUIRE(test::eventually(
      [&] {
        for (const auto& job : all_jobs(db)) {
          if (job.status == "running" && claimed_by(job, worker_id)) {
            stuck_id = job.id;
          }
        }
        return !stuck_id.empty();
      },
      wait_limit, poll_interval));
    worker->stop(SIGKILL, std::chrono::seconds{5});
  }
  test::gateway_process second_worker{env_for("worker", "worker-2")};
  const auto second_worker_id = node_id(db, "worker-2");
  persistence::job_row rerun;
  REQUIRE(test::eventually(
    [&] {
      auto row = persistence::job_repository{db}.get(stuck_id);
      if (row && *row && (*row)->status == "succeeded") {
        rerun = **row;
        return true;
      }
      return false;
    },
    wait_limit, poll_interval));
  CHECK(rerun.attempts == 2);
  CHECK(claimed_by(rerun, second_worker_id));
  CHECK(rerun.last_error.value_or("").find("timed out") != std::string::npos);

  // The web node ran no job and made no upstream call of its own: its fake saw the one turn.
  for (const auto& job : all_jobs(db)) {
    CHECK_FALSE(claimed_by(job, web_id));
    CHECK(job.enqueued_by != web_id);
  }
  const auto seen_by_web = web_upstream.recorded();
  REQUIRE(seen_by_web.size() == 1);
  CHECK(seen_by_web[0].target.rfind("/backend-api/codex/responses", 0) == 0);
  CHECK(f.upstream().recorded().size() > 0);
}
