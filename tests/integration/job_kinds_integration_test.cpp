// The job kinds that only touch the database, run as a worker runs them (the handler map), on
// both backends: retention, runtime cleanup, usage rollups, and the queries and state changes
// the upstream-facing kinds stand on (refresh candidates, stale evidence, the pool catalog).
#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "actors/jobs/job_handler.hpp"
#include "common/clock.hpp"
#include "persistence/upkeep/account_upkeep_repository.hpp"
#include "persistence/upkeep/housekeeping_repository.hpp"
#include "persistence/upkeep/pool_catalog_repository.hpp"
#include "persistence/upkeep/usage_rollup_repository.hpp"
#include "tests/support/runtime_rig.hpp"

using namespace cxp;
using domain::job_kind;
using json = nlohmann::json;

namespace {

const time_point t0 = parse_iso8601("2026-06-01T12:30:00Z").value();

std::string iso(std::chrono::hours offset) {
  return to_iso8601(t0 + offset);
}

constexpr std::chrono::hours days(int n) {
  return std::chrono::hours{24 * n};
}

/// A worker's view of one database at the fixed time `t0`: the handlers as the workers get them.
struct job_rig {
  explicit job_rig(test::backend kind) : node(kind, clock) {}

  json run(job_kind kind, std::optional<std::string> pool_id = std::nullopt) {
    auto outcome = handlers.at(kind)(actors::job_run{"job-1", kind, std::move(pool_id), 1});
    INFO((outcome ? std::string{} : context_of(outcome.error())));
    REQUIRE(outcome.engaged());
    return *outcome;
  }

  void sql(const std::string& statement) {
    REQUIRE(database.db().run([&](soci::session& session) { session << statement; }));
  }

  int64_t count(const std::string& query) {
    auto counted = database.db().run([&](soci::session& session) {
      long long n = 0;
      session << query, soci::into(n);
      return static_cast<int64_t>(n);
    });
    REQUIRE(counted);
    return *counted;
  }

  manual_clock clock{t0};
  test::runtime_rig node;
  test::test_database& database = node.database;
  actors::job_services job_services{node.system, database.db(), node.deps};
  actors::job_handlers handlers = actors::make_job_handlers(job_services);
};

void insert_request_log(job_rig& rig, const std::string& id, const std::string& at,
                        const std::string& model = "gpt-5.5",
                        const std::string& outcome = "succeeded", int64_t cost = 0,
                        const std::string& pricing = "priced") {
  rig.sql("INSERT INTO request_logs (id, occurred_at, pool_id, api_key_id, account_id, route, "
          "transport, model, status_code, outcome, input_tokens, cached_input_tokens, "
          "output_tokens, reasoning_tokens, cost_micros, pricing_status) VALUES ('"
          + id + "', '" + at + "', 'pool-a', 'key-a', 'acct-a', 'responses', 'http_sse', '" + model
          + "', 200, '" + outcome + "', 100, 10, 50, 5, " + std::to_string(cost) + ", '" + pricing
          + "')");
}

void insert_account(job_rig& rig, const std::string& id, const std::string& status = "active") {
  rig.sql("INSERT INTO upstream_accounts (id, chatgpt_account_id, status, secret_key_version, "
          "access_token_ciphertext, refresh_token_ciphertext, created_at, updated_at) VALUES ('"
          + id + "', 'chatgpt-" + id + "', '" + status + "', 'v1', 'x', 'x', '" + iso(days(-30))
          + "', '" + iso(days(-30)) + "')");
}

void insert_pool_with(job_rig& rig, const std::string& pool, const std::vector<std::string>& ids) {
  rig.sql("INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES ('" + pool + "', '"
          + pool + "', '" + pool + "', '" + iso(days(-30)) + "', '" + iso(days(-30)) + "')");
  for (const auto& id : ids) {
    rig.sql("INSERT INTO pool_accounts (pool_id, account_id, created_at) VALUES ('" + pool + "', '"
            + id + "', '" + iso(days(-30)) + "')");
  }
}

} // namespace

TEST_CASE("retention deletes only history older than its settings, in bounded batches",
          "[integration][jobs_kinds]") {
  job_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  for (int i = 0; i < 3; ++i) {
    insert_request_log(rig, "old-" + std::to_string(i), iso(-days(91) - std::chrono::hours{i}));
  }
  insert_request_log(rig, "recent", iso(-days(89)));
  // A request's attempts go with it, whenever each attempt started.
  for (const auto* request : {"old-0", "old-1", "old-2", "recent"}) {
    rig.sql(std::string{"INSERT INTO request_attempts (request_id, attempt_number, started_at, "
                        "outcome) VALUES ('"}
            + request + "', 1, '" + iso(-days(89)) + "', 'succeeded')");
  }
  rig.sql("INSERT INTO audit_events (id, occurred_at, actor_type, action, outcome) VALUES "
          "('audit-old', '"
          + iso(-days(366))
          + "', 'system', 'pool.create', 'success'), "
            "('audit-recent', '"
          + iso(-days(300)) + "', 'system', 'pool.create', 'success')");

  // One batch deletes at most its limit, oldest first.
  persistence::housekeeping_repository housekeeping{rig.database.db()};
  CHECK(
    housekeeping.delete_history(persistence::history_table::request_logs, iso(-days(90)), 2).value()
    == 2);
  CHECK(rig.count("SELECT COUNT(*) FROM request_logs WHERE id = 'old-0'") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM request_attempts") == 2);
  CHECK(rig.count("SELECT COUNT(*) FROM request_attempts WHERE request_id = 'old-0'") == 1);

  const auto outcome = rig.run(job_kind::retention);
  CHECK(outcome["request_logs"]["deleted"] == 1);
  CHECK(outcome["audit_events"]["deleted"] == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM request_logs") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM request_logs WHERE id = 'recent'") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM request_attempts WHERE request_id = 'recent'") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM request_attempts") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM audit_events WHERE id = 'audit-recent'") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM audit_events") == 1);

  // Zero days keeps history forever.
  rig.sql("INSERT INTO instance_settings (key, value, updated_at) VALUES "
          "('retention.request_log_days', '0', '"
          + iso(days(0)) + "')");
  insert_request_log(rig, "ancient", iso(-days(3000)));
  CHECK(rig.run(job_kind::retention)["request_logs"]["kept_forever"] == true);
  CHECK(rig.count("SELECT COUNT(*) FROM request_logs WHERE id = 'ancient'") == 1);
}

TEST_CASE("runtime cleanup deletes expired runtime state and keeps live state",
          "[integration][jobs_kinds]") {
  job_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  rig.sql("INSERT INTO session_leases (session_key_hash, owner_node_id, lease_token, acquired_at, "
          "expires_at) VALUES ('expired', 'n', 't', '"
          + iso(-std::chrono::hours{2}) + "', '" + iso(-std::chrono::hours{1})
          + "'), ('live', 'n', 't', '" + iso(-std::chrono::hours{1}) + "', '"
          + iso(std::chrono::hours{1}) + "')");
  rig.sql("INSERT INTO oauth_refresh_gates (oauth_client_id, touched_at) VALUES ('stale', '"
          + iso(-days(8)) + "'), ('fresh', '" + iso(-days(1)) + "')");
  // Sign-in flows and upstream invites: a week past their end they go; younger ones stay.
  rig.sql("INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES ('pool-c', 'cleanup', "
          "'Cleanup', '"
          + iso(-days(30)) + "', '" + iso(-days(30)) + "')");
  rig.sql("INSERT INTO upstream_invites (id, pool_id, email, token_hash, status, expires_at, "
          "created_at, updated_at) VALUES "
          "('inv-old', 'pool-c', 'a@example.com', 'h1', 'expired', '"
          + iso(-days(8)) + "', '" + iso(-days(9)) + "', '" + iso(-days(8))
          + "'), ('inv-accepted', 'pool-c', 'b@example.com', 'h2', 'accepted', '" + iso(-days(8))
          + "', '" + iso(-days(9)) + "', '" + iso(-days(9))
          + "'), ('inv-recent', 'pool-c', "
            "'c@example.com', 'h3', 'revoked', '"
          + iso(-days(1)) + "', '" + iso(-days(2)) + "', '" + iso(-days(2)) + "')");
  auto flow = [&](const std::string& id, const std::string& status, const std::string& invite,
                  std::chrono::hours expired_ago) {
    rig.sql("INSERT INTO upstream_onboarding_flows (id, kind, purpose, status, pool_id, "
            "invite_id, redirect_uri, sealed_secret, expires_at, created_at, updated_at) VALUES ('"
            + id + "', 'device', '" + (invite.empty() ? "link" : "invite") + "', '" + status
            + "', 'pool-c', " + (invite.empty() ? "NULL" : "'" + invite + "'")
            + ", 'r', 'sealed', '" + iso(-expired_ago) + "', '" + iso(-expired_ago) + "', '"
            + iso(-expired_ago) + "')");
  };
  flow("flow-done-old", "completed", "", days(8));
  flow("flow-abandoned-old", "pending", "", days(8));
  flow("flow-of-old-invite", "failed", "inv-old", days(2));
  flow("flow-done-recent", "completed", "", days(6));

  const auto outcome = rig.run(job_kind::runtime_cleanup);
  CHECK(outcome["session_leases"] == 1);
  CHECK(outcome["refresh_gates"] == 1);
  CHECK(outcome["onboarding_flows"] == 2);
  CHECK(outcome["upstream_invites"] == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM upstream_onboarding_flows") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM upstream_onboarding_flows WHERE id = 'flow-done-recent'")
        == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM upstream_invites WHERE id IN ('inv-accepted', "
                  "'inv-recent')")
        == 2);
  CHECK(rig.count("SELECT COUNT(*) FROM upstream_invites") == 2);
  CHECK(rig.count("SELECT COUNT(*) FROM session_leases WHERE session_key_hash = 'live'") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM oauth_refresh_gates WHERE oauth_client_id = 'fresh'") == 1);
  CHECK(rig.count("SELECT COUNT(*) FROM session_leases")
          + rig.count("SELECT COUNT(*) FROM "
                      "oauth_refresh_gates")
        == 2);
}

TEST_CASE("usage rollups agree with the request logs, hour by hour, and take late rows",
          "[integration][jobs_kinds]") {
  job_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  // Two hours with traffic, a day apart, and one failed unpriced request.
  insert_request_log(rig, "a", iso(-days(1)), "gpt-5.5", "succeeded", 1'250);
  insert_request_log(rig, "b", iso(-days(1) + std::chrono::hours{0}), "gpt-5.5", "succeeded", 750);
  insert_request_log(rig, "c", iso(-std::chrono::hours{1}), "mystery", "failed", 0, "unpriced");
  const auto outcome = rig.run(job_kind::usage_rollup);
  CHECK(outcome["rows"] == 2);

  persistence::usage_rollup_repository rollups{rig.database.db()};
  auto rows = rollups.list(iso(-days(2)), iso(days(1)), std::nullopt).value();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].model == "gpt-5.5");
  CHECK(rows[0].counts.requests == 2);
  CHECK(rows[0].counts.errors == 0);
  CHECK(rows[0].counts.cost_micros == 2'000);
  CHECK(rows[0].counts.input_tokens == 200);
  CHECK(rows[0].counts.cached_input_tokens == 20);
  CHECK(rows[0].counts.output_tokens == 100);
  CHECK(rows[0].counts.reasoning_tokens == 10);
  CHECK(rows[0].bucket_start == to_iso8601(std::chrono::floor<std::chrono::hours>(t0 - days(1))));
  CHECK(rows[1].model == "mystery");
  CHECK(rows[1].counts.errors == 1);
  CHECK(rows[1].counts.unpriced_requests == 1);
  CHECK(rig.count("SELECT SUM(cost_micros) FROM usage_rollups")
        == rig.count("SELECT SUM(cost_micros) FROM request_logs"));

  // A request logged late into the last hour rolled up is counted by the next run.
  insert_request_log(rig, "d", iso(-std::chrono::hours{1}), "mystery", "succeeded", 40);
  rig.run(job_kind::usage_rollup);
  rows = rollups.list(iso(-days(2)), iso(days(1)), std::string{"pool-a"}).value();
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].counts.requests == 2);
  CHECK(rows[1].counts.cost_micros == 40);
  CHECK(rollups.list(iso(-days(2)), iso(days(1)), std::string{"pool-b"}).value().empty());
}

TEST_CASE("the upkeep queries pick the accounts that need a refresh or a usage poll",
          "[integration][jobs_kinds]") {
  job_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  for (const auto* id : {"soon", "later", "cooling", "unassigned"}) {
    insert_account(rig, id);
  }
  insert_account(rig, "paused", "paused");
  insert_pool_with(rig, "pool-a", {"soon", "later", "cooling", "paused"});
  const auto expires = [&](const std::string& id, std::chrono::hours in) {
    rig.sql("UPDATE upstream_accounts SET access_token_expires_at = '" + iso(in) + "' WHERE id = '"
            + id + "'");
  };
  expires("soon", std::chrono::hours{0});
  expires("later", std::chrono::hours{5});
  expires("cooling", std::chrono::hours{0});
  expires("unassigned", std::chrono::hours{0});
  expires("paused", std::chrono::hours{0});
  rig.sql("UPDATE upstream_accounts SET last_refresh_error = 'server_error', "
          "last_refresh_error_at = '"
          + to_iso8601(t0 - std::chrono::minutes{5}) + "' WHERE id = 'cooling'");
  persistence::account_upkeep_repository upkeep{rig.database.db()};
  auto due =
    upkeep.refresh_candidates(iso(std::chrono::hours{1}), to_iso8601(t0 - std::chrono::minutes{15}))
      .value();
  REQUIRE(due.size() == 1);
  CHECK(due.front().account_id == "soon");
  // After its cooldown the failed account is due again.
  CHECK(upkeep.refresh_candidates(iso(std::chrono::hours{1}), to_iso8601(t0)).value().size() == 2);

  rig.sql("INSERT INTO account_quota_windows (account_id, limit_id, window_minutes, window_kind, "
          "used_percent, source, observed_at) VALUES ('soon', 'codex', 300, 'primary', 10, "
          "'traffic', '"
          + to_iso8601(t0 - std::chrono::minutes{1})
          + "'), ('later', 'codex', 300, "
            "'primary', 10, 'traffic', '"
          + to_iso8601(t0 - std::chrono::minutes{30}) + "')");
  auto stale = upkeep.stale_evidence(to_iso8601(t0 - std::chrono::minutes{5})).value();
  CHECK(stale == std::vector<std::string>{"cooling", "later"});
}

TEST_CASE("a pool's catalog: served models active, unserved ones stale, then retired, and back",
          "[integration][jobs_kinds]") {
  job_rig rig{GENERATE(test::backend::sqlite, test::backend::postgres)};
  insert_pool_with(rig, "pool-a", {});
  persistence::pool_catalog_repository catalog{rig.database.db()};
  const auto retire_before = [](time_point now) {
    return to_iso8601(now - days(7));
  };
  auto change =
    catalog.record("pool-a", {{"gpt-5.5", 2}, {"gpt-old", 1}}, iso(days(0)), retire_before(t0))
      .value();
  CHECK(change.added == 2);
  // gpt-old is no longer served: stale now, still stale a day later, retired after a week.
  change =
    catalog.record("pool-a", {{"gpt-5.5", 2}}, iso(days(1)), retire_before(t0 + days(1))).value();
  CHECK(change.stale == 1);
  CHECK(catalog.record("pool-a", {{"gpt-5.5", 2}}, iso(days(2)), retire_before(t0 + days(2)))
          .value()
          .retired
        == 0);
  change =
    catalog.record("pool-a", {{"gpt-5.5", 1}}, iso(days(9)), retire_before(t0 + days(9))).value();
  CHECK(change.retired == 1);
  auto models = catalog.models("pool-a").value();
  REQUIRE(models.size() == 2);
  CHECK(models[0].slug == "gpt-5.5");
  CHECK(models[0].status == "active");
  CHECK(models[0].account_count == 1);
  CHECK(models[1].status == "retired");
  CHECK(models[1].retired_at == iso(days(9)));
  // Served again, a retired model is active again.
  change = catalog
             .record("pool-a", {{"gpt-5.5", 1}, {"gpt-old", 1}}, iso(days(10)),
                     retire_before(t0 + days(10)))
             .value();
  CHECK(change.revived == 1);
  models = catalog.models("pool-a").value();
  CHECK(models[1].status == "active");
  CHECK_FALSE(models[1].stale_at);
  CHECK(models[1].first_seen_at == iso(days(0)));
}
