// The routing decision on the request log: which accounts routing considered, in order, why each
// skipped one was skipped and which one served, read back through the admin API.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/routing/selection_policy.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

constexpr auto owner_email = "owner@example.com";
constexpr auto owner_password = "correct horse battery staple";

/// The owner of the fixture's gateway, logged in.
test::admin_client owner_of(pooler_fixture& f) {
  test::admin_client owner{f.gateway().port()};
  REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
  REQUIRE(owner.login(owner_email, owner_password).status == 200);
  return owner;
}

/// The routing candidate of `account_id` in a request-log detail, or null.
json candidate_of(const json& detail, const std::string& account_id) {
  for (const auto& candidate : detail["routing"]["candidates"]) {
    if (candidate["account_id"] == account_id) {
      return candidate;
    }
  }
  return nullptr;
}

/// A session key whose bridge-ring order puts `first` before `second` (the seed is the key).
std::string session_ranking(const std::string& first, const std::string& second) {
  for (int i = 0;; ++i) {
    auto key = "routing-session-" + std::to_string(i);
    if (domain::rendezvous_score(key, first) > domain::rendezvous_score(key, second)) {
      return key;
    }
  }
}

} // namespace

TEST_CASE("a request log shows a paused account skipped and the other one serving",
          "[integration][routing_decision]") {
  pooler_fixture::options opts;
  opts.database = test::backend::sqlite; // the dashboard test covers the columns on PostgreSQL
  opts.accounts = 2;
  pooler_fixture f{opts};
  auto owner = owner_of(f);
  const auto paused = f.account_ids().at("acct-1");
  const auto serving = f.account_ids().at("acct-2");
  REQUIRE(owner.send("PATCH", "/admin/api/upstreams/" + serving, {{"label", "Backup"}}).status
          == 200);
  REQUIRE(owner.send("POST", "/admin/api/upstreams/" + paused + "/pause", json::object()).status
          == 200);

  // The pause reaches the pool through the account actor: wait until a request shows it.
  json detail;
  size_t turns = 0;
  REQUIRE(test::eventually([&] {
    auto answer = f.turn({{"user-agent", "codex_cli_rs/0.171.0 (Debian; x86_64) xterm"}});
    REQUIRE(answer.status == 200);
    auto logs = f.request_logs(++turns);
    auto read = owner.get("/admin/api/request-logs/" + logs[0]["id"].get<std::string>());
    REQUIRE(read.status == 200);
    detail = json::parse(read.body);
    const auto candidate = candidate_of(detail, paused);
    return candidate.is_object() && candidate["reason"] == "paused";
  }));
  INFO(detail.dump());
  CHECK(detail["account_id"] == serving);
  CHECK(detail["client"] == "codex_cli_rs/0.171.0");
  const auto& candidates = detail["routing"]["candidates"];
  REQUIRE(candidates.size() == 2);
  CHECK(candidates[0]["account_id"] == serving); // ranked (eligible) first
  CHECK(candidates[0]["outcome"] == "served");
  CHECK(candidates[0]["reason"].is_null());
  CHECK(candidates[0]["label"] == "Backup");
  CHECK(candidates[0]["attempt"] == 1);
  CHECK(candidates[1]["outcome"] == "skipped");
  CHECK(candidates[1]["reason"] == "paused");
  CHECK(candidates[1]["label"].is_null());
  // Metadata only: the raw user agent is not stored anywhere.
  CHECK(f.dump_database().find("(Debian; x86_64)") == std::string::npos);

  SECTION("an exhausted pool's denial still records why each account was left out") {
    f.script("acct-2", [](auto& s) { s.usage_limit_after = 0; });
    auto limited = f.turn();
    CHECK(limited.status == 429);
    auto logs = f.request_logs(turns + 1);
    auto read = owner.get("/admin/api/request-logs/" + logs[0]["id"].get<std::string>());
    REQUIRE(read.status == 200);
    auto denied = json::parse(read.body);
    INFO(denied.dump());
    CHECK(candidate_of(denied, paused)["reason"] == "paused");
    CHECK(candidate_of(denied, serving)["outcome"] == "failed");
    CHECK(candidate_of(denied, serving)["reason"] == "usage_limit_reached");
  }
}

TEST_CASE("a failover shows the failed account and the one that served, per attempt",
          "[integration][routing_decision]") {
  pooler_fixture::options opts;
  opts.database = test::backend::sqlite; // the dashboard test covers the columns on PostgreSQL
  opts.accounts = 2;
  pooler_fixture f{opts};
  auto owner = owner_of(f);
  const auto failing = f.account_ids().at("acct-1");
  const auto healthy = f.account_ids().at("acct-2");
  f.script("acct-1", [](auto& s) { s.status_5xx = 502; });

  // A session whose ring tries the failing account first, so the request must fail over.
  auto answer = f.turn(
    {{"session_id", session_ranking(failing, healthy)}, {"user-agent", "OpenAI/Python 1.52.0"}});
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  auto logs = f.request_logs(1);
  auto read = owner.get("/admin/api/request-logs/" + logs[0]["id"].get<std::string>());
  REQUIRE(read.status == 200);
  auto detail = json::parse(read.body);
  INFO(detail.dump());
  CHECK(detail["attempt_count"] == 2);
  CHECK(detail["client"] == "openai-python/1.52.0");
  const auto& candidates = detail["routing"]["candidates"];
  REQUIRE(candidates.size() == 2);
  CHECK(candidates[0]["account_id"] == failing);
  CHECK(candidates[0]["outcome"] == "failed");
  CHECK(candidates[0]["reason"] == "upstream_502");
  CHECK(candidates[0]["attempt"] == 1);
  CHECK(candidates[1]["account_id"] == healthy);
  CHECK(candidates[1]["outcome"] == "served");
  CHECK(candidates[1]["attempt"] == 2);
}
