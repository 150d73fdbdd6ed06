// The upstream-facing job kinds run through the gateway: an owner runs a job with
// POST /admin/api/jobs, a worker of the same node (role all) claims it, and the fake upstream
// and the database show what it did.
#include <algorithm>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/upkeep/pool_catalog_repository.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

constexpr auto job_wait = std::chrono::seconds{30};

pooler_fixture::options two_accounts() {
  pooler_fixture::options options;
  options.accounts = 2;
  // Nothing listens there: the startup pricing import fails at once instead of going online.
  options.settings = {R"(catalog.openai_pricing_url="http://127.0.0.1:9/pricing.json")"};
  return options;
}

/// An owner's admin session on the fixture's gateway.
struct owner_session {
  explicit owner_session(pooler_fixture& fixture) : f(fixture), admin(fixture.gateway().port()) {
    REQUIRE(admin.bootstrap("owner@example.com", "correct horse battery staple").status == 201);
    REQUIRE(admin.login("owner@example.com", "correct horse battery staple").status == 200);
  }

  /// The runs of `kind` as the jobs list shows them.
  json runs(const std::string& kind) {
    auto listed = admin.get("/admin/api/jobs?kind=" + kind + "&limit=200");
    REQUIRE(listed.status == 200);
    return json::parse(listed.body)["items"];
  }

  /// The job `id` as the jobs list shows it (null when it is not listed).
  json job(const std::string& kind, const std::string& id) {
    for (const auto& item : runs(kind)) {
      if (item["id"] == id) {
        return item;
      }
    }
    return nullptr;
  }

  /// How many attempts the runs of `kind` made so far, each one a call per account.
  int attempts_of(const std::string& kind) {
    int attempts = 0;
    for (const auto& item : runs(kind)) {
      attempts += item["attempts"].get<int>();
    }
    return attempts;
  }

  /// Waits until no run of `kind` is queued and due, or running (the startup runs).
  void settle(const std::string& kind) {
    CHECK(test::eventually(
      [&] {
        for (const auto& item : runs(kind)) {
          if (item["state"] == "running" || (item["state"] == "queued" && item["attempts"] == 0)) {
            return false;
          }
        }
        return true;
      },
      job_wait));
  }

  /// Runs `kind` now and waits for its run to end; the run as listed.
  json run(const std::string& kind, const json& extra = json::object()) {
    auto body = extra;
    body["kind"] = kind;
    auto started = admin.send("POST", "/admin/api/jobs", body);
    REQUIRE(started.status == 202);
    const auto id = json::parse(started.body)["job"]["id"].get<std::string>();
    json finished;
    const bool ended = test::eventually(
      [&] {
        finished = job(kind, id);
        return finished.is_object()
               && (finished["state"] == "succeeded" || finished["state"] == "failed"
                   || (finished["state"] == "queued" && finished["attempts"] > 0));
      },
      job_wait);
    INFO(finished.dump());
    REQUIRE(ended);
    return finished;
  }

  pooler_fixture& f;
  test::admin_client admin;
};

/// How many requests to `path` the fake received, per chatgpt-account-id.
std::map<std::string, int> calls_to(const pooler_fixture& f, const std::string& path) {
  std::map<std::string, int> calls;
  for (const auto& request : const_cast<pooler_fixture&>(f).upstream().recorded()) {
    if (request.target.substr(0, request.target.find('?')) == path) {
      auto account = request.headers.find("chatgpt-account-id");
      ++calls[account == request.headers.end() ? "" : account->second];
    }
  }
  return calls;
}

int64_t count(pooler_fixture& f, const std::string& query) {
  auto counted = f.database().db().run([&](soci::session& sql) {
    soci::rowset<soci::row> rows = sql.prepare << query;
    return persistence::row_reader{*rows.begin()}.int64(0);
  });
  REQUIRE(counted);
  return *counted;
}

void exec(pooler_fixture& f, const std::string& statement) {
  REQUIRE(f.database().db().run([&](soci::session& sql) { sql << statement; }));
}

} // namespace

TEST_CASE("quota reconciliation run by an owner polls the usage of each account with old "
          "evidence, once, and stores its windows",
          "[integration][jobs_kinds]") {
  // One scheduled slot a day: a scheduled reconciliation (every minute by default) landing
  // between the evidence made stale below and the manual run would poll it first, leaving the
  // manual run nothing stale (CI saw that on a loaded machine).
  auto options = two_accounts();
  options.gateway_env["CODEX_POOLER_JOB_EVERY_MS"] = "86400000";
  pooler_fixture f{options};
  owner_session owner{f};
  owner.settle("quota_reconciliation");
  // The owner's own first usage probe lands too (its windows are flushed a second after it).
  REQUIRE(test::eventually(
    [&] { return count(f, "SELECT COUNT(DISTINCT account_id) FROM account_quota_windows") == 2; },
    job_wait));
  std::this_thread::sleep_for(std::chrono::milliseconds{1'500});
  exec(f, "UPDATE account_quota_windows SET observed_at = '2020-01-01T00:00:00.000000Z', "
          "used_percent = 99");
  f.upstream().clear_recorded();

  const auto run = owner.run("quota_reconciliation");
  CHECK(run["state"] == "succeeded");
  CHECK(run["outcome"]["stale"] == 2);
  CHECK(run["outcome"]["stored"] == 2);
  const auto calls = calls_to(f, "/backend-api/wham/usage");
  CHECK(calls == std::map<std::string, int>{{"acct-1", 1}, {"acct-2", 1}});
  // Every account's windows are the fake's answer now, observed just now by the usage probe.
  CHECK(count(f, "SELECT COUNT(*) FROM account_quota_windows WHERE observed_at < '2021'") == 0);
  CHECK(count(f, "SELECT COUNT(*) FROM account_quota_windows WHERE used_percent = 99") == 0);
  CHECK(count(f, "SELECT COUNT(DISTINCT account_id) FROM account_quota_windows WHERE source = "
                 "'usage_probe'")
        == 2);

  // Fresh evidence is not polled again.
  f.upstream().clear_recorded();
  CHECK(owner.run("quota_reconciliation")["outcome"]["stale"] == 0);
  CHECK(calls_to(f, "/backend-api/wham/usage").empty());
}

TEST_CASE("the token refresh sweep has the owner refresh a token that expires soon, and only it",
          "[integration][jobs_kinds]") {
  pooler_fixture f{two_accounts()};
  owner_session owner{f};
  owner.settle("token_refresh");
  // The sweep asks the account's owner, so the account needs one first.
  REQUIRE(test::eventually(
    [&] {
      return count(f, "SELECT COUNT(*) FROM account_leases WHERE account_id = '"
                        + f.account_ids().at("acct-1") + "' AND expires_at > '"
                        + to_iso8601(std::chrono::system_clock::now()) + "'")
             == 1;
    },
    job_wait));
  const auto soon = to_iso8601(std::chrono::system_clock::now() + std::chrono::minutes{10});
  exec(f, "UPDATE upstream_accounts SET access_token_expires_at = '" + soon + "' WHERE id = '"
            + f.account_ids().at("acct-1") + "'");
  const auto generation_before =
    count(f, "SELECT token_generation FROM upstream_accounts WHERE id = '"
               + f.account_ids().at("acct-1") + "'");

  const auto run = owner.run("token_refresh");
  CHECK(run["state"] == "succeeded");
  CHECK(run["outcome"]["due"] == 1);
  CHECK(run["outcome"]["requested"] == 1);
  // The owner (this node) takes the request within its evidence poll and stores new tokens.
  CHECK(
    test::eventually([&] { return f.upstream().counters("acct-1").refresh_calls == 1; }, job_wait));
  CHECK(test::eventually(
    [&] {
      return count(f, "SELECT token_generation FROM upstream_accounts WHERE id = '"
                        + f.account_ids().at("acct-1") + "'")
             == generation_before + 1;
    },
    job_wait));
  CHECK(f.upstream().counters("acct-2").refresh_calls == 0);
  // The account still serves, with its new token.
  CHECK(f.turn().status == 200);
}

TEST_CASE("catalog sync records the pool's models and marks one no account serves any more stale",
          "[integration][jobs_kinds]") {
  pooler_fixture f{two_accounts()};
  owner_session owner{f};
  owner.settle("catalog_sync");
  persistence::pool_catalog_repository catalog{f.database().db()};
  auto models = catalog.models(f.pool_id()).value();
  REQUIRE(models.size() == 2);
  CHECK(models[0].slug == "gpt-5.5");
  CHECK(models[0].status == "active");
  CHECK(models[0].account_count == 2);

  // Each account actor fetches its own catalog once when it takes ownership, besides one fetch
  // per attempt of the runs so far (the startup run, and the runs the accounts' joining the pool
  // queued); the actor's fetch must be done before counting the run's calls.
  const int attempts = owner.attempts_of("catalog_sync");
  INFO("catalog_sync attempts before the run: " << attempts);
  CHECK(test::eventually(
    [&] {
      auto calls = calls_to(f, "/backend-api/codex/models");
      return calls["acct-1"] >= attempts + 1 && calls["acct-2"] >= attempts + 1;
    },
    job_wait));
  for (const auto* account : {"acct-1", "acct-2"}) {
    f.script(account, [](test::account_script& script) { script.hidden_models = {"gpt-fake"}; });
  }
  f.upstream().clear_recorded();
  const auto run = owner.run("catalog_sync", {{"pool_id", f.pool_id()}});
  CHECK(run["state"] == "succeeded");
  CHECK(run["outcome"]["pools"][f.pool_id()]["stale"] == 1);
  CHECK(calls_to(f, "/backend-api/codex/models")
        == std::map<std::string, int>{{"acct-1", 1}, {"acct-2", 1}});
  models = catalog.models(f.pool_id()).value();
  REQUIRE(models.size() == 2);
  CHECK(models[1].slug == "gpt-fake");
  CHECK(models[1].status == "stale");
  CHECK(count(f, "SELECT COUNT(*) FROM account_models WHERE slug = 'gpt-fake'") == 0);

  // A pool id the kind does not take, and an unknown kind, are refused.
  auto refused =
    owner.admin.send("POST", "/admin/api/jobs", {{"kind", "retention"}, {"pool_id", f.pool_id()}});
  CHECK(refused.status == 422);
  refused = owner.admin.send("POST", "/admin/api/jobs", {{"kind", "defragment"}});
  CHECK(refused.status == 422);
}

TEST_CASE("a pricing import that cannot fetch its feed fails its attempt with the reason and "
          "changes nothing",
          "[integration][jobs_kinds]") {
  pooler_fixture f{two_accounts()};
  owner_session owner{f};
  owner.settle("pricing_import");
  const auto snapshots = count(f, "SELECT COUNT(*) FROM pricing_snapshots");
  const auto run = owner.run("pricing_import");
  CHECK(run["state"] != "succeeded");
  CHECK(run["last_error"].get<std::string>().find("pricing import failed") != std::string::npos);
  CHECK(count(f, "SELECT COUNT(*) FROM pricing_snapshots") == snapshots);
}

TEST_CASE("the usage rollup of proxied requests agrees with their logs, and the admin API shows "
          "it with the pool's models",
          "[integration][jobs_kinds]") {
  pooler_fixture f{two_accounts()};
  owner_session owner{f};
  owner.settle("catalog_sync");
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.turn().status == 200);
  }
  const auto logs = f.request_logs(3);
  int64_t logged_cost = 0;
  for (const auto& row : logs) {
    logged_cost += row.value("cost_micros", int64_t{0});
  }
  CHECK(logged_cost > 0);

  CHECK(owner.run("usage_rollup")["state"] == "succeeded");
  auto usage = owner.admin.get("/admin/api/usage?pool_id=" + f.pool_id());
  REQUIRE(usage.status == 200);
  const auto report = json::parse(usage.body);
  CHECK(report["totals"]["requests"] == 3);
  CHECK(report["totals"]["errors"] == 0);
  CHECK(report["totals"]["cost_micros"] == logged_cost);
  CHECK(report["totals"]["input_tokens"] == 30);
  REQUIRE(report["by_model"].size() == 1);
  CHECK(report["by_model"][0]["model"] == logs[0]["model"]);
  CHECK(owner.admin.get("/admin/api/usage?from=yesterday").status == 422);

  auto models = owner.admin.get("/admin/api/pools/" + f.pool_id() + "/models");
  REQUIRE(models.status == 200);
  const auto items = json::parse(models.body)["items"];
  REQUIRE(items.size() == 2);
  CHECK(items[0]["slug"] == "gpt-5.5");
  CHECK(items[0]["status"] == "active");
  CHECK(owner.admin.get("/admin/api/pools/" + new_uuid() + "/models").status == 404);
}
