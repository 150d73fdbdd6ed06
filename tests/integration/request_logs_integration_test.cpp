#include <filesystem>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "persistence/request_logs/request_log_repository.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/recent_day.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;

namespace {

constexpr auto owner_email = "owner@example.com";
constexpr auto owner_password = "correct horse battery staple";

/// A gateway on a fresh PostgreSQL database with a logged-in owner, two pools and a request log
/// written straight to the database (the writer's rows, without traffic).
struct log_fixture {
  log_fixture()
      : database(test::backend::postgres),
        data(std::filesystem::temp_directory_path() / ("cxp_logs_" + to_hex(random_bytes(6)))),
        gateway(test::gateway_env(database.url(), data.string())),
        owner(gateway.port()) {
    REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
    REQUIRE(owner.login(owner_email, owner_password).status == 200);
    pool_a = create_pool("Pool A");
    pool_b = create_pool("Pool B");
  }
  ~log_fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(data, ignored);
  }

  std::string create_pool(const std::string& name) {
    auto created = owner.send("POST", "/admin/api/pools", {{"name", name}});
    REQUIRE(created.status == 201);
    return json::parse(created.body)["id"];
  }

  /// Stores a row at minute `minute` of yesterday's 10:xx and returns its id.
  std::string log(int minute, std::optional<std::string> pool, const std::string& model,
                  const std::string& outcome, int32_t status, int attempts = 1) {
    persistence::request_log_row row;
    row.id = new_uuid();
    row.occurred_at =
      day + "T10:" + std::string(minute < 10 ? "0" : "") + std::to_string(minute) + ":00.000000Z";
    row.pool_id = std::move(pool);
    row.api_key_id =
      row.pool_id ? std::optional<std::string>{"key-of-" + *row.pool_id} : std::nullopt;
    row.account_id = minute % 2 == 0 ? "account-even" : "account-odd";
    row.route = "/backend-api/codex/responses";
    row.transport = "http_sse";
    row.model = model;
    row.status_code = status;
    row.outcome = outcome;
    row.input_tokens = 10;
    row.output_tokens = 3;
    row.cost_micros = 131;
    row.pricing_status = "priced";
    row.client_ip = "203.0.113.7";
    for (int n = 1; n <= attempts; ++n) {
      persistence::request_attempt_row attempt;
      attempt.attempt_number = n;
      attempt.account_id = "account-" + std::to_string(n);
      attempt.started_at = row.occurred_at;
      attempt.status_code = n < attempts ? 502 : status;
      attempt.outcome = n < attempts ? "retryable_failed" : outcome;
      row.attempts.push_back(attempt);
    }
    REQUIRE(persistence::request_log_repository{database.db()}.insert_batch({row}));
    return row.id;
  }

  test::test_database database;
  std::filesystem::path data;
  test::gateway_process gateway;
  test::admin_client owner;
  std::string pool_a;
  std::string pool_b;
  const std::string day = test::recent_day();
};

json items_of(const test::http_result& answer) {
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  return json::parse(answer.body)["items"];
}

std::vector<std::string> ids_of(const json& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) {
    ids.push_back(item["id"]);
  }
  return ids;
}

} // namespace

TEST_CASE("request logs are listed newest first with filters and keyset pages",
          "[integration][request_logs]") {
  log_fixture f;
  const auto a0 = f.log(0, f.pool_a, "gpt-5.5", "succeeded", 200);
  const auto a1 = f.log(1, f.pool_a, "gpt-5.5", "failed", 502, 2);
  const auto a2 = f.log(2, f.pool_a, "gpt-fake", "succeeded", 200);
  const auto a3 = f.log(3, f.pool_a, "gpt-5.5", "rejected", 429, 0);
  const auto b4 = f.log(4, f.pool_b, "gpt-5.5", "succeeded", 200);
  const auto none5 = f.log(5, std::nullopt, "gpt-5.5", "rejected", 401, 0);

  auto all = items_of(f.owner.get("/admin/api/request-logs"));
  CHECK(ids_of(all) == std::vector<std::string>{none5, b4, a3, a2, a1, a0});
  const auto& failed = all[4];
  CHECK(failed["pool_id"] == f.pool_a);
  CHECK(failed["status_code"] == 502);
  CHECK(failed["attempt_count"] == 2);
  CHECK(failed["cost_micros"] == 131);
  CHECK(failed["pricing_status"] == "priced");
  CHECK(failed["client_ip"] == "203.0.113.7");
  CHECK_FALSE(failed.contains("attempts"));

  auto list = [&](const std::string& query) {
    return ids_of(items_of(f.owner.get("/admin/api/request-logs?" + query)));
  };
  using ids = std::vector<std::string>;
  CHECK(list("pool_id=" + f.pool_a) == ids{a3, a2, a1, a0});
  CHECK(list("api_key_id=key-of-" + f.pool_b) == ids{b4});
  CHECK(list("account_id=account-odd") == ids{none5, a3, a1});
  CHECK(list("model=gpt-fake") == ids{a2});
  CHECK(list("outcome=rejected") == ids{none5, a3});
  CHECK(list("status_code=502") == ids{a1});
  CHECK(list("from=" + f.day + "T10:01:00Z&to=" + f.day + "T10:03:00Z") == ids{a2, a1});
  CHECK(list("pool_id=" + f.pool_a + "&outcome=succeeded&model=gpt-5.5") == ids{a0});
  CHECK(list("model=gpt-9").empty());

  // Pages of two follow each other without gaps or repeats.
  std::vector<std::string> paged;
  std::string cursor;
  int pages = 0;
  do {
    auto answer =
      f.owner.get("/admin/api/request-logs?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(answer.status == 200);
    auto page = json::parse(answer.body);
    CHECK(page["items"].size() <= 2);
    for (const auto& id : ids_of(page["items"])) {
      paged.push_back(id);
    }
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(paged == ids_of(all));
  CHECK(pages == 3);
  // A filter holds across pages.
  auto first = json::parse(f.owner.get("/admin/api/request-logs?limit=1&pool_id=" + f.pool_a).body);
  REQUIRE(first["next_cursor"].is_string());
  auto second = items_of(f.owner.get("/admin/api/request-logs?limit=1&pool_id=" + f.pool_a
                                     + "&cursor=" + first["next_cursor"].get<std::string>()));
  CHECK(ids_of(second) == ids{a2});

  auto detail = f.owner.get("/admin/api/request-logs/" + a1);
  REQUIRE(detail.status == 200);
  auto row = json::parse(detail.body);
  CHECK(row["id"] == a1);
  CHECK(row["outcome"] == "failed");
  REQUIRE(row["attempts"].size() == 2);
  CHECK(row["attempts"][0]["attempt_number"] == 1);
  CHECK(row["attempts"][0]["outcome"] == "retryable_failed");
  CHECK(row["attempts"][0]["account_id"] == "account-1");
  CHECK(row["attempts"][1]["attempt_number"] == 2);
  CHECK(row["attempts"][1]["status_code"] == 502);
  CHECK(json::parse(f.owner.get("/admin/api/request-logs/" + a3).body)["attempts"].empty());

  auto unknown = f.owner.get("/admin/api/request-logs/" + new_uuid());
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body)["error"]["code"] == "not_found");
}

TEST_CASE("bad request-log filters are refused naming each parameter",
          "[integration][request_logs]") {
  log_fixture f;
  auto refused = f.owner.get("/admin/api/request-logs?outcome=won&status_code=abc&from=yesterday"
                             "&to=2026-13-01T00:00:00Z&cursor=not-a-cursor");
  REQUIRE(refused.status == 422);
  auto error = json::parse(refused.body)["error"];
  CHECK(error["code"] == "validation_failed");
  for (const char* field : {"outcome", "status_code", "from", "to", "cursor"}) {
    INFO(field);
    CHECK(error["fields"].contains(field));
  }
  CHECK(f.owner.get("/admin/api/request-logs?status_code=99").status == 422);
  CHECK(f.owner.get("/admin/api/request-logs?status_code=200").status == 200);

  test::admin_client stranger{f.gateway.port()};
  CHECK(stranger.get("/admin/api/request-logs").status == 401);
  CHECK(stranger.get("/admin/api/request-logs/" + new_uuid()).status == 401);
}

TEST_CASE("an instance admin reads only the request logs of its pools",
          "[integration][request_logs]") {
  log_fixture f;
  const auto a0 = f.log(0, f.pool_a, "gpt-5.5", "succeeded", 200);
  const auto b1 = f.log(1, f.pool_b, "gpt-5.5", "succeeded", 200);
  const auto b2 = f.log(2, f.pool_b, "gpt-5.5", "failed", 500);
  const auto none3 = f.log(3, std::nullopt, "gpt-5.5", "rejected", 401, 0);

  auto created = f.owner.send("POST", "/admin/api/operators",
                              {{"email", "admin@example.com"},
                               {"display_name", "Admin"},
                               {"role", "instance_admin"},
                               {"temporary_password", "temporary password 1"},
                               {"pool_ids", {f.pool_b}}});
  REQUIRE(created.status == 201);
  test::admin_client admin{f.gateway.port()};
  REQUIRE(admin.login("admin@example.com", "temporary password 1").status == 200);
  REQUIRE(admin
            .send("POST", "/admin/api/session/password",
                  {{"current_password", "temporary password 1"},
                   {"new_password", "another long passphrase"}})
            .status
          == 200);

  CHECK(ids_of(items_of(admin.get("/admin/api/request-logs"))) == std::vector<std::string>{b2, b1});
  CHECK(items_of(admin.get("/admin/api/request-logs?pool_id=" + f.pool_a)).empty());
  CHECK(admin.get("/admin/api/request-logs/" + b1).status == 200);
  CHECK(admin.get("/admin/api/request-logs/" + a0).status == 404);
  CHECK(admin.get("/admin/api/request-logs/" + none3).status == 404);
  // The owner sees them all.
  CHECK(items_of(f.owner.get("/admin/api/request-logs")).size() == 4);
  CHECK(f.owner.get("/admin/api/request-logs/" + none3).status == 200);
}
