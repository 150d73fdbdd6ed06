#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;

namespace {

constexpr auto owner_email = "owner@example.com";
constexpr auto owner_password = "correct horse battery staple";

std::string error_code(const test::http_result& result) {
  auto body = json::parse(result.body, nullptr, false);
  if (body.is_discarded() || !body.contains("error")) {
    return "";
  }
  return body["error"].value("code", "");
}

/// A migrated PostgreSQL database, a `web` gateway on it with a signed-in owner, and the
/// environment for more processes on the same database.
struct jobs_fixture {
  jobs_fixture()
      : database(test::backend::postgres),
        data(std::filesystem::temp_directory_path() / ("cxp_jobs_" + to_hex(random_bytes(6)))),
        env(test::gateway_env(database.url(), data.string())),
        migrated(test::run_gateway_command(env, {"migrate"})),
        web(with_role("web")),
        owner(web.port()) {
    REQUIRE(migrated.exit_code == 0);
    REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
    REQUIRE(owner.login(owner_email, owner_password).status == 200);
  }
  ~jobs_fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(data, ignored);
  }

  test::env_vars with_role(const std::string& role) const {
    auto out = env;
    out["CODEX_POOLER_ROLE"] = role;
    out["CODEX_POOLER_JOB_POLL_MS"] = "100";
    return out;
  }

  json post_job(const json& body) {
    auto posted = owner.send("POST", "/admin/api/jobs", body);
    INFO(posted.body);
    return {{"status", posted.status},
            {"body", json::parse(posted.body, nullptr, false)},
            {"code", error_code(posted)}};
  }

  json list(const std::string& query = "") {
    auto listed = owner.get("/admin/api/jobs" + query);
    INFO(listed.body);
    REQUIRE(listed.status == 200);
    return json::parse(listed.body);
  }

  test::test_database database;
  std::filesystem::path data;
  test::env_vars env;
  test::command_result migrated;
  test::gateway_process web;
  test::admin_client owner;
};

} // namespace

TEST_CASE("the jobs API queues a run now for owners, refuses unknown kinds and lists runs",
          "[integration][jobs]") {
  jobs_fixture f;
  auto pool = f.owner.send("POST", "/admin/api/pools", {{"name", "Team"}});
  REQUIRE(pool.status == 201);
  const auto pool_id = json::parse(pool.body)["id"].get<std::string>();

  auto retention = f.post_job({{"kind", "retention"}});
  REQUIRE(retention["status"] == 202);
  const auto job = retention["body"]["job"];
  CHECK(retention["body"]["created"] == true);
  CHECK(job["kind"] == "retention");
  CHECK(job["state"] == "queued");
  CHECK(job["attempts"] == 0);
  CHECK(job["origin"] == "manual");
  CHECK(job["pool_id"].is_null());
  // The same run again, while it waits: the waiting one is answered.
  auto again = f.post_job({{"kind", "retention"}});
  CHECK(again["status"] == 202);
  CHECK(again["body"]["created"] == false);
  CHECK(again["body"]["job"]["id"] == job["id"]);

  auto unknown = f.post_job({{"kind", "defragment"}});
  CHECK(unknown["status"] == 422);
  CHECK(unknown["code"] == "validation_failed");
  CHECK(unknown["body"]["error"]["param"] == "kind");
  CHECK(f.post_job(json::object())["status"] == 422);
  CHECK(f.post_job({{"kind", "retention"}, {"extra", 1}})["status"] == 422);
  auto not_per_pool = f.post_job({{"kind", "retention"}, {"pool_id", pool_id}});
  CHECK(not_per_pool["status"] == 422);
  CHECK(not_per_pool["body"]["error"]["param"] == "pool_id");
  CHECK(f.post_job({{"kind", "catalog_sync"}, {"pool_id", new_uuid()}})["status"] == 404);
  auto per_pool = f.post_job({{"kind", "catalog_sync"}, {"pool_id", pool_id}});
  REQUIRE(per_pool["status"] == 202);
  CHECK(per_pool["body"]["job"]["pool_id"] == pool_id);

  // The CLI queues and lists through the same service.
  auto cli_run = test::run_gateway_command(f.env, {"admin", "job", "run", "usage_rollup"});
  REQUIRE(cli_run.exit_code == 0);
  CHECK(json::parse(cli_run.out)["job"]["kind"] == "usage_rollup");
  auto cli_bad = test::run_gateway_command(f.env, {"admin", "job", "run", "defragment"});
  CHECK(cli_bad.exit_code == 1);
  CHECK(cli_bad.err.find("kind") != std::string::npos);

  // Newest first, filtered, in keyset pages. A web node runs none of them.
  auto all = f.list();
  REQUIRE(all["items"].size() == 3);
  CHECK(all["items"][0]["kind"] == "usage_rollup");
  CHECK(all["items"][2]["kind"] == "retention");
  for (const auto& item : all.at("items")) {
    CHECK(item["state"] == "queued");
  }
  CHECK(f.list("?kind=catalog_sync")["items"].size() == 1);
  CHECK(f.list("?state=queued")["items"].size() == 3);
  CHECK(f.list("?state=succeeded")["items"].empty());
  CHECK(f.owner.get("/admin/api/jobs?state=bogus").status == 422);
  CHECK(f.owner.get("/admin/api/jobs?kind=bogus").status == 422);
  auto first_page = f.list("?limit=2");
  REQUIRE(first_page["items"].size() == 2);
  REQUIRE(first_page["next_cursor"].is_string());
  auto second_page = f.list("?limit=2&cursor=" + first_page["next_cursor"].get<std::string>());
  REQUIRE(second_page["items"].size() == 1);
  CHECK(second_page["items"][0]["kind"] == "retention");
  CHECK(second_page["next_cursor"].is_null());

  // Each run asked for is audited once.
  auto audit = f.owner.get("/admin/api/audit-logs?action=job.run");
  REQUIRE(audit.status == 200);
  // Four answered requests: the repeated one is audited too, as not queued.
  CHECK(json::parse(audit.body)["items"].size() == 4);

  // An instance admin sees its pool's runs and cannot run jobs.
  auto created = f.owner.send("POST", "/admin/api/operators",
                              {{"email", "admin@example.com"},
                               {"display_name", "Admin"},
                               {"role", "instance_admin"},
                               {"temporary_password", "temporary password 1"},
                               {"pool_ids", {pool_id}}});
  REQUIRE(created.status == 201);
  test::admin_client admin{f.web.port()};
  REQUIRE(admin.login("admin@example.com", "temporary password 1").status == 200);
  REQUIRE(admin
            .send("POST", "/admin/api/session/password",
                  {{"current_password", "temporary password 1"},
                   {"new_password", "another long passphrase"}})
            .status
          == 200);
  auto scoped = admin.get("/admin/api/jobs");
  REQUIRE(scoped.status == 200);
  REQUIRE(json::parse(scoped.body)["items"].size() == 1);
  CHECK(json::parse(scoped.body)["items"][0]["pool_id"] == pool_id);
  auto refused = admin.send("POST", "/admin/api/jobs", {{"kind", "retention"}});
  CHECK(refused.status == 403);
}

TEST_CASE("a worker serves only health and metrics and runs the jobs the web node queued",
          "[integration][jobs]") {
  jobs_fixture f;
  const auto queued = f.post_job({{"kind", "runtime_cleanup"}});
  REQUIRE(queued["status"] == 202);
  const auto id = queued["body"]["job"]["id"].get<std::string>();

  test::gateway_process worker{f.with_role("worker")};
  CHECK(test::http_get(worker.port(), "/healthz").status == 200);
  CHECK(test::http_get(worker.port(), "/readyz").status == 200);
  CHECK(test::http_get(worker.port(), "/admin/api/jobs").status == 404);
  CHECK(test::http_get(worker.port(), "/bootstrap/status").status == 404);
  CHECK(test::http_get(worker.port(), "/backend-api/codex/models").status == 404);
  CHECK(test::http_get(worker.port(), "/v1/models").status == 404);

  json ran;
  const bool finished = test::eventually([&] {
    const auto succeeded = f.list("?state=succeeded");
    for (const auto& item : succeeded["items"]) {
      if (item["id"] == id) {
        ran = item;
        return true;
      }
    }
    return false;
  });
  INFO(worker.output());
  INFO(f.list().dump());
  REQUIRE(finished);
  CHECK(ran["attempts"] == 1);
  CHECK(ran["outcome"].is_object());
  CHECK(ran["started_at"].is_string());
  CHECK(ran["finished_at"].is_string());
  CHECK(ran["locked_by"].is_string());

  const auto metrics = test::http_get(worker.port(), "/metrics").body;
  CHECK(metrics.find(R"(codex_pooler_jobs_total{kind="runtime_cleanup",outcome="succeeded"} 1)")
        != std::string::npos);
  CHECK(metrics.find(R"(codex_pooler_job_duration_seconds_count{kind="runtime_cleanup"} 1)")
        != std::string::npos);
  // A worker does not schedule.
  CHECK(metrics.find("codex_pooler_scheduler_leader 0") != std::string::npos);
  CHECK(f.list("?state=queued")["items"].empty());
}
