#include "domain/routing/pooled_quota.hpp"

#include <map>

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

const time_point now{std::chrono::seconds{1'800'000'000}};

quota_window window(int32_t window_minutes, double used, time_point reset,
                    std::string limit_id = "codex", std::string name = "") {
  return {window_minutes == 10'080 ? "secondary" : "primary",
          window_minutes,
          used,
          reset,
          now - minutes{1},
          std::move(limit_id),
          std::move(name)};
}

quota_member member(std::vector<quota_window> windows, std::string plan = "plus") {
  quota_member m;
  m.routable = true;
  m.plan_type = std::move(plan);
  m.windows = std::move(windows);
  return m;
}

/// A plus account: 5 h window used `five_hour`, resetting in `five_hour_reset`; weekly `weekly`.
quota_member plus(double five_hour, hours five_hour_reset, double weekly, hours weekly_reset) {
  return member(
    {window(300, five_hour, now + five_hour_reset), window(10'080, weekly, now + weekly_reset)});
}

int64_t unix_at(time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

std::map<std::string, std::string> header_map(const pooled_quota& quota) {
  auto list = quota_headers(quota, now);
  return {list.begin(), list.end()};
}

} // namespace

TEST_CASE("the pooled window is the mean share used, matched by duration",
          "[unit][domain][pooled_quota]") {
  auto quota =
    pool_quota({plus(20, hours{1}, 10, hours{100}), plus(55, hours{2}, 30, hours{50})}, now);
  REQUIRE(quota.main.primary);
  REQUIRE(quota.main.secondary);
  CHECK(quota.main.primary->window_minutes == 300);
  CHECK(quota.main.primary->used_percent == Approx(37.5));
  CHECK(quota.main.secondary->window_minutes == 10'080);
  CHECK(quota.main.secondary->used_percent == Approx(20.0));
  // Both carry load: the earliest reset among them.
  CHECK(quota.main.primary->reset_at == now + hours{1});
  CHECK(quota.main.secondary->reset_at == now + hours{50});
  CHECK_FALSE(quota.main.limit_reached);
}

TEST_CASE("accounts without evidence count as free capacity", "[unit][domain][pooled_quota]") {
  auto quota = pool_quota({plus(80, hours{1}, 40, hours{100}), member({})}, now);
  CHECK(quota.main.primary->used_percent == Approx(40.0));
  CHECK(quota.main.secondary->used_percent == Approx(20.0));
  CHECK(quota.main.primary->reset_at == now + hours{1});
}

TEST_CASE("paused and reauth-required accounts are not part of the pool's capacity",
          "[unit][domain][pooled_quota]") {
  auto paused = plus(100, hours{1}, 100, hours{1});
  paused.routable = false;
  auto reauth = member({});
  reauth.routable = false;
  auto quota = pool_quota({plus(10, hours{1}, 10, hours{10}), paused, reauth}, now);
  CHECK(quota.main.primary->used_percent == Approx(10.0));
  CHECK_FALSE(quota.main.limit_reached);

  SECTION("a pool with no routable account has no capacity") {
    auto none = pool_quota({paused, reauth}, now);
    CHECK(none.main.limit_reached);
    CHECK_FALSE(none.main.primary);
    CHECK(usage_document(none, now)["rate_limit"]["allowed"] == false);
  }
}

TEST_CASE("one exhausted account raises the share; the reset is the carrying account's",
          "[unit][domain][pooled_quota]") {
  auto quota =
    pool_quota({plus(100, hours{3}, 50, hours{100}), plus(20, hours{1}, 10, hours{90})}, now);
  CHECK(quota.main.primary->used_percent == Approx(60.0));
  // The exhausted account is not carrying the load: its later reset does not matter now.
  CHECK(quota.main.primary->reset_at == now + hours{1});
  CHECK_FALSE(quota.main.limit_reached);
}

TEST_CASE("an exhausted pool resets when its first account comes back",
          "[unit][domain][pooled_quota]") {
  auto quota =
    pool_quota({plus(100, hours{3}, 50, hours{100}), plus(100, hours{2}, 10, hours{90})}, now);
  CHECK(quota.main.limit_reached);
  CHECK(quota.main.primary->used_percent == Approx(100.0));
  CHECK(quota.main.primary->reset_at == now + hours{2});
  CHECK(quota.main.secondary->used_percent == Approx(30.0));

  SECTION("a usage limit without window evidence counts as a full window") {
    auto limited = member({});
    limited.exhausted_until = now + hours{4};
    auto pool = pool_quota({limited, plus(100, hours{5}, 0, hours{90})}, now);
    CHECK(pool.main.limit_reached);
    CHECK(pool.main.primary->used_percent == Approx(100.0));
    CHECK(pool.main.primary->reset_at == now + hours{4});
    CHECK(pool.main.secondary->used_percent == Approx(50.0));
  }
}

TEST_CASE("a window whose reset passed counts as unused", "[unit][domain][pooled_quota]") {
  auto quota =
    pool_quota({plus(100, hours{-1}, 40, hours{100}), plus(50, hours{2}, 20, hours{90})}, now);
  CHECK(quota.main.primary->used_percent == Approx(25.0));
  CHECK_FALSE(quota.main.limit_reached);
  CHECK(quota.main.primary->reset_at == now + hours{2});
}

TEST_CASE("mixed plans: a weekly-only account adds free 5-hour capacity",
          "[unit][domain][pooled_quota]") {
  // A pro account that reports only its weekly window (in the primary slot upstream; matched
  // by duration here) has no 5-hour limit to use up.
  auto pro = member({window(10'080, 60, now + hours{20})}, "pro");
  auto quota = pool_quota({plus(50, hours{1}, 20, hours{100}), pro, member({}, "pro")}, now);
  CHECK(quota.plan_type == "pro");
  CHECK(quota.main.primary->window_minutes == 300);
  CHECK(quota.main.primary->used_percent == Approx(16.67));
  CHECK(quota.main.secondary->used_percent == Approx(26.67));
  CHECK(quota.main.secondary->reset_at == now + hours{20});
}

TEST_CASE("one window missing: a lone weekly window is secondary, a lone 5-hour one primary",
          "[unit][domain][pooled_quota]") {
  auto weekly = pool_quota({member({window(10'080, 30, now + hours{20})})}, now);
  CHECK_FALSE(weekly.main.primary);
  REQUIRE(weekly.main.secondary);
  CHECK(weekly.main.secondary->used_percent == Approx(30));
  auto headers = header_map(weekly);
  CHECK_FALSE(headers.count("x-codex-primary-used-percent"));
  CHECK(headers.at("x-codex-secondary-used-percent") == "30");

  auto five_hour = pool_quota({member({window(300, 12.5, now + hours{2})})}, now);
  REQUIRE(five_hour.main.primary);
  CHECK_FALSE(five_hour.main.secondary);
  CHECK(header_map(five_hour).at("x-codex-primary-used-percent") == "12.5");
}

TEST_CASE("additional families are pooled over the accounts that report them",
          "[unit][domain][pooled_quota]") {
  auto spark = plus(10, hours{1}, 10, hours{100});
  spark.windows.push_back(
    window(300, 100, now + hours{2}, "codex_bengalfox", "GPT-5.3-Codex-Spark"));
  auto other = plus(30, hours{1}, 10, hours{100});
  other.windows.push_back(window(300, 40, now + hours{3}, "codex_bengalfox", ""));
  auto quota = pool_quota({spark, other, plus(0, hours{1}, 0, hours{100})}, now);
  REQUIRE(quota.additional.size() == 1);
  const auto& family = quota.additional.front();
  CHECK(family.limit_id == "codex_bengalfox");
  CHECK(family.limit_name == "GPT-5.3-Codex-Spark");
  CHECK(family.primary->used_percent == Approx(70.0));
  CHECK(family.primary->reset_at == now + hours{3});
  CHECK_FALSE(family.limit_reached);
  // The main family is not touched by the other family's exhaustion.
  CHECK(quota.main.primary->used_percent == Approx(13.33));

  auto headers = header_map(quota);
  CHECK(headers.at("x-codex-bengalfox-primary-used-percent") == "70");
  CHECK(headers.at("x-codex-bengalfox-limit-name") == "GPT-5.3-Codex-Spark");
  auto events = rate_limits_events(quota);
  REQUIRE(events.size() == 2);
  CHECK(events[1]["metered_limit_name"] == "codex_bengalfox");
  auto document = usage_document(quota, now);
  CHECK(document["additional_rate_limits"][0]["metered_feature"] == "codex_bengalfox");
  CHECK(document["additional_rate_limits"][0]["rate_limit"]["primary_window"]["used_percent"]
        == 70);
}

TEST_CASE("a window nobody knows the reset of resets a full window from now",
          "[unit][domain][pooled_quota]") {
  quota_window unknown = window(300, 20, now);
  unknown.reset_at.reset();
  auto quota = pool_quota({member({unknown})}, now);
  CHECK(quota.main.primary->reset_at == now + minutes{300});
}

TEST_CASE("a key's tighter token caps replace the pooled windows", "[unit][domain][pooled_quota]") {
  const auto pool = pool_quota({plus(20, hours{1}, 10, hours{100})}, now);
  SECTION("a weekly cap more used than the pool's week takes the weekly window") {
    auto quota = tighten(pool, {{10'080, 45.0, now + hours{30}}});
    CHECK(quota.main.secondary->used_percent == Approx(45));
    CHECK(quota.main.secondary->reset_at == now + hours{30});
    CHECK(quota.main.primary->used_percent == Approx(20));
    CHECK_FALSE(quota.main.limit_reached);
  }
  SECTION("a less used cap changes nothing") {
    auto quota = tighten(pool, {{10'080, 5.0, now + hours{30}}, {1'440, 10.0, now + hours{3}}});
    CHECK(quota.main.secondary->used_percent == Approx(10));
    CHECK(quota.main.primary->window_minutes == 300);
  }
  SECTION("a daily cap more used than the 5-hour window takes the primary slot") {
    auto quota = tighten(pool, {{1'440, 100.0, now + hours{3}}});
    CHECK(quota.main.primary->window_minutes == 1'440);
    CHECK(quota.main.primary->used_percent == Approx(100));
    CHECK(quota.main.limit_reached);
  }
}

TEST_CASE("headers, event and usage document say the same", "[unit][domain][pooled_quota]") {
  auto quota =
    pool_quota({plus(100, hours{3}, 50, hours{100}), plus(25, hours{1}, 10, hours{90})}, now);
  auto headers = header_map(quota);
  CHECK(headers.at("x-codex-primary-used-percent") == "62.5");
  CHECK(headers.at("x-codex-primary-window-minutes") == "300");
  CHECK(headers.at("x-codex-primary-reset-at") == std::to_string(unix_at(now + hours{1})));
  CHECK(headers.at("x-codex-primary-reset-after-seconds") == "3600");
  CHECK(headers.at("x-codex-secondary-used-percent") == "30");
  CHECK(headers.at("x-codex-secondary-window-minutes") == "10080");
  CHECK_FALSE(headers.count("x-codex-credits-has-credits"));

  auto events = rate_limits_events(quota);
  REQUIRE(events.size() == 1);
  const auto& event = events.front();
  CHECK(event["type"] == "codex.rate_limits");
  CHECK(event["rate_limits"]["allowed"] == true);
  CHECK(event["rate_limits"]["primary"]["used_percent"] == 62.5);
  CHECK(event["rate_limits"]["primary"]["window_minutes"] == 300);
  CHECK(event["rate_limits"]["primary"]["reset_at"] == unix_at(now + hours{1}));
  CHECK_FALSE(event.contains("metered_limit_name"));

  auto document = usage_document(quota, now);
  const auto& primary = document["rate_limit"]["primary_window"];
  CHECK(primary["used_percent"] == 62); // integers, rounded down: 100 only when full
  CHECK(primary["limit_window_seconds"] == 18'000);
  CHECK(primary["reset_at"] == unix_at(now + hours{1}));
  CHECK(primary["reset_after_seconds"] == 3600);
  CHECK(document["rate_limit"]["secondary_window"]["used_percent"] == 30);
  CHECK(document["rate_limit_reached_type"].is_null());
  CHECK(document["plan_type"] == "plus");

  // What the pooled headers say, read back the way the gateway reads an upstream's.
  auto parsed = parse_rate_limit_headers(header_map(quota), now);
  REQUIRE(parsed.size() == 2);
  CHECK(parse_rate_limits_event(event, now).size() == 2);
  CHECK(parse_usage_document(document, now).size() == 2);
}

TEST_CASE("an answer's own evidence counts in the view its client is shown",
          "[unit][domain][pooled_quota]") {
  auto served = plus(10, hours{1}, 10, hours{100});
  served.account_id = "a";
  auto idle = plus(30, hours{2}, 30, hours{90});
  idle.account_id = "b";
  quota_window newer = window(300, 50, now + hours{1});
  newer.observed_at = now;
  auto members = with_observation({served, idle}, "a", {newer}, std::nullopt);
  CHECK(pool_quota(members, now).main.primary->used_percent == Approx(40));
  auto limited = with_observation({served, idle}, "b", {}, now + hours{3});
  CHECK(limited[1].exhausted_until == now + hours{3});
  CHECK_FALSE(limited[0].exhausted_until);
}
