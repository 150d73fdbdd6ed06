#include "edge/routes/codex/pool_documents.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::actors;
using json = nlohmann::json;

namespace {

const time_point now{std::chrono::seconds{1'800'000'000}};

account_snapshot account(std::string id, std::string status, double primary_used,
                         std::vector<json> models = {}) {
  account_snapshot snapshot;
  snapshot.account_id = std::move(id);
  snapshot.status = std::move(status);
  snapshot.plan_type = "pro";
  snapshot.quota = {{"primary", 300, primary_used, now + std::chrono::hours{1}, now, "codex", ""},
                    {"secondary", 10080, 10, now + std::chrono::hours{100}, now, "codex", ""}};
  snapshot.models = std::make_shared<const std::vector<json>>(std::move(models));
  return snapshot;
}

} // namespace

TEST_CASE("the pool catalog is the union of routable accounts' models", "[unit][edge][codex]") {
  pool_view view;
  view.accounts.push_back(
    account("a", "active", 0,
            {{{"slug", "gpt-b"}, {"priority", 2}}, {{"slug", "gpt-a"}, {"priority", 1}}}));
  view.accounts.push_back(account("b", "active", 0, {{{"slug", "gpt-b"}, {"priority", 9}}}));
  view.accounts.push_back(account("c", "reauth_required", 0, {{{"slug", "gpt-hidden"}}}));
  auto catalog = edge::pool_catalog(view, std::nullopt)["models"];
  REQUIRE(catalog.size() == 2);
  CHECK(catalog[0]["slug"] == "gpt-a");
  CHECK(catalog[1]["slug"] == "gpt-b");
  CHECK(catalog[1]["priority"] == 2);

  auto restricted = edge::pool_catalog(view, std::vector<std::string>{"GPT-B"})["models"];
  REQUIRE(restricted.size() == 1);
  CHECK(restricted[0]["slug"] == "gpt-b");
}

TEST_CASE("pool usage is the pooled quota in the usage shape", "[unit][edge][codex]") {
  pool_view view;
  view.accounts.push_back(account("a", "active", 20));
  view.accounts.push_back(account("b", "active", 61));
  view.accounts.push_back(account("c", "paused", 100));
  auto usage = edge::pool_usage(view, now);
  CHECK(usage["plan_type"] == "pro");
  CHECK(usage["rate_limit"]["allowed"] == true);
  CHECK(usage["rate_limit"]["limit_reached"] == false);
  // (20 + 61) / 2 = 40.5, rounded down; the paused account is not part of the capacity.
  CHECK(usage["rate_limit"]["primary_window"]["used_percent"] == 40);
  CHECK(usage["rate_limit"]["primary_window"]["limit_window_seconds"] == 18000);
  CHECK(usage["rate_limit"]["primary_window"]["reset_after_seconds"] == 3600);
  CHECK(usage["rate_limit"]["secondary_window"]["limit_window_seconds"] == 604800);
  CHECK(usage["rate_limit_reached_type"].is_null());

  pool_view exhausted;
  exhausted.accounts.push_back(account("a", "active", 100));
  auto limited = edge::pool_usage(exhausted, now);
  CHECK(limited["rate_limit"]["limit_reached"] == true);
  CHECK(limited["rate_limit"]["allowed"] == false);
  CHECK(limited["rate_limit_reached_type"]["type"] == "rate_limit_reached");

  view.key_windows = {{10'080, 75.0, now + std::chrono::hours{30}}};
  auto tightened = edge::pool_usage(view, now);
  CHECK(tightened["rate_limit"]["secondary_window"]["used_percent"] == 75);
  CHECK(tightened["rate_limit"]["secondary_window"]["reset_after_seconds"] == 30 * 3600);
}
