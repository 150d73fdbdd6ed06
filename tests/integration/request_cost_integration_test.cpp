#include <algorithm>
#include <optional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/pricing/pricing_import.hpp"
#include "persistence/pricing/pricing_repository.hpp"
#include "persistence/request_logs/request_log_repository.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/pooler_fixture.hpp"
#include "tests/support/ws_client.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

/// A streaming turn for `model`, asking for `tier` when given.
test::http_result turn(pooler_fixture& f, const std::string& model,
                       const std::optional<std::string>& tier = std::nullopt) {
  auto body = test::user_turn_body("say hi", model);
  if (tier) {
    body["service_tier"] = *tier;
  }
  return test::http_request(f.gateway().port(), "POST", "/backend-api/codex/responses", body.dump(),
                            {{"authorization", "Bearer " + f.api_key()},
                             {"content-type", "application/json"},
                             {"accept", "text/event-stream"}});
}

/// The request log once it holds `count` rows (bounded wait), oldest first.
std::vector<persistence::request_log_row> logged(pooler_fixture& f, size_t count) {
  std::vector<persistence::request_log_row> rows;
  test::eventually([&] {
    auto recent = persistence::request_log_repository{f.database().db()}.recent(100);
    if (recent && recent->size() >= count) {
      rows.assign(recent->rbegin(), recent->rend());
      return true;
    }
    return false;
  });
  REQUIRE(rows.size() == count);
  return rows;
}

json usage_reported(int64_t input, int64_t cached, int64_t output, int64_t reasoning) {
  return {{"input_tokens", input},
          {"input_tokens_details", {{"cached_tokens", cached}}},
          {"output_tokens", output},
          {"output_tokens_details", {{"reasoning_tokens", reasoning}}},
          {"total_tokens", input + output}};
}

} // namespace

TEST_CASE("every request log row carries its cost at the snapshot in force, and /v1/usage sums it",
          "[integration][pricing]") {
  pooler_fixture::options opts;
  opts.accounts = 1;
  pooler_fixture f{opts};
  // `serve` (role all) imported the built-in snapshot when it migrated.
  auto builtin = persistence::pricing_repository{f.database().db()}.find_by_version(
    "2026-08-21T21:41:01.660811Z");
  REQUIRE(builtin);
  REQUIRE(*builtin);
  const auto builtin_id = (*builtin)->id;

  // The fake reports 10 input tokens (2 cached) and 3 output (1 reasoning) unless told otherwise.
  REQUIRE(turn(f, "gpt-5.5").status == 200);
  REQUIRE(turn(f, "gpt-5.5", "priority").status == 200);
  f.script("acct-1", [](auto& s) { s.usage = usage_reported(300'000, 100'000, 1'000, 200); });
  REQUIRE(turn(f, "gpt-5.5").status == 200);
  f.script("acct-1", [](auto& s) { s.usage = nullptr; });
  REQUIRE(turn(f, "gpt-fake").status == 200);

  const auto rows = logged(f, 4);
  // gpt-5.5 standard, short context: input $5, cached $0.50, output (and reasoning) $30 per 1M:
  // (10 − 2) × 5 + 2 × 0.5 + 3 × 30 = 131 micro-USD.
  CHECK(rows[0].model == "gpt-5.5");
  CHECK_FALSE(rows[0].service_tier);
  CHECK(rows[0].pricing_status == "priced");
  CHECK(rows[0].cost_micros == 131);
  CHECK(rows[0].pricing_snapshot_id == builtin_id);
  // Priority is the feed's fast tier: $12.50, $1.25, $75: 100 + 2.5 + 225 = 327.5, rounded up.
  CHECK(rows[1].service_tier == "priority");
  CHECK(rows[1].pricing_status == "priced");
  CHECK(rows[1].cost_micros == 328);
  // 300,000 input tokens is above 272,000: the long-context prices, $10, $1, $45:
  // 200,000 × 10 + 100,000 × 1 + 1,000 × 45 = 2,145,000 micro-USD.
  CHECK(rows[2].input_tokens == 300'000);
  CHECK(rows[2].pricing_status == "priced");
  CHECK(rows[2].cost_micros == 2'145'000);
  // A model the snapshot does not list is never guessed.
  CHECK(rows[3].model == "gpt-fake");
  CHECK(rows[3].pricing_status == "unpriced");
  CHECK_FALSE(rows[3].cost_micros);
  CHECK(rows[3].pricing_snapshot_id == builtin_id);

  auto usage =
    test::http_get(f.gateway().port(), "/v1/usage", {{"authorization", "Bearer " + f.api_key()}});
  REQUIRE(usage.status == 200);
  auto totals = json::parse(usage.body);
  int64_t logged_cost = 0;
  for (const auto& row : rows) {
    logged_cost += row.cost_micros.value_or(0);
  }
  CHECK(logged_cost == 131 + 328 + 2'145'000);
  CHECK(totals["total_cost_micros"] == logged_cost);
  CHECK(totals["total_cost_usd"].get<double>() == Approx(2.145459));
  CHECK(totals["total_cost_status"] == "partial");
  CHECK(totals["priced_request_count"] == 3);
  CHECK(totals["unpriced_request_count"] == 1);
  CHECK(totals["request_count"] == 4);

  // A newer snapshot (gpt-5.5 input at $6) prices the requests that finish after its import.
  auto feed = json::parse(domain::builtin_pricing_feed());
  feed["generated_at"] = "2026-09-01T00:00:00Z";
  feed["models"]["gpt-5.5"]["prices"]["standard"]["default"]["input"] = 6.0;
  auto newer =
    domain::import_pricing_feed(f.database().db(), feed.dump(), "https://feed.test/pricing.json");
  REQUIRE(newer.outcome == domain::pricing_import_outcome::imported);
  REQUIRE(turn(f, "gpt-5.5").status == 200);
  const auto after = logged(f, 5);
  CHECK(after[4].pricing_snapshot_id == newer.snapshot_id);
  CHECK(after[4].cost_micros == 8 * 6 + 1 + 90);
  CHECK(after[0].cost_micros == 131); // rows already logged keep their price

  // A websocket turn's service_tier reaches its row too.
  {
    test::ws_client ws{f.gateway().port(), f.api_key(), {}};
    REQUIRE(ws.status == 101);
    auto frame = json::parse(test::ws_create_frame("say hi"));
    frame["service_tier"] = "flex";
    ws.send(frame.dump());
    auto frames = ws.read_turn();
    REQUIRE_FALSE(frames.empty());
    REQUIRE(test::type_of(frames.back()) == "response.completed");
    ws.close();
  }
  const auto with_socket = logged(f, 6);
  CHECK(with_socket[5].transport == "websocket");
  CHECK(with_socket[5].service_tier == "flex");
  CHECK(with_socket[5].pricing_status
        == (with_socket[5].input_tokens ? "priced" : "not_applicable")); // gpt-5.5 has flex prices

  // Operators read the same cost through the admin API.
  test::admin_client owner{f.gateway().port()};
  REQUIRE(owner.bootstrap("owner@example.com", "correct horse battery staple").status == 201);
  REQUIRE(owner.login("owner@example.com", "correct horse battery staple").status == 200);
  auto listed = owner.get("/admin/api/request-logs?model=gpt-fake");
  REQUIRE(listed.status == 200);
  auto items = json::parse(listed.body)["items"];
  REQUIRE(items.size() == 1);
  CHECK(items[0]["pricing_status"] == "unpriced");
  CHECK(items[0]["cost_micros"].is_null());
  auto long_row = owner.get("/admin/api/request-logs/" + rows[2].id);
  REQUIRE(long_row.status == 200);
  auto detail = json::parse(long_row.body);
  CHECK(detail["cost_micros"] == 2'145'000);
  CHECK(detail["pricing_snapshot_id"] == builtin_id);
  REQUIRE(detail["attempts"].size() == 1);
  CHECK(detail["attempts"][0]["outcome"] == "succeeded");
}
