#include "domain/routing/key_budget.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;
using namespace std::chrono_literals;

namespace {

time_point at(const std::string& iso) {
  return *parse_iso8601(iso);
}

} // namespace

TEST_CASE("UTC day and ISO week starts", "[unit][domain][routing][key_budget]") {
  CHECK(to_iso8601(utc_day_start(at("2026-11-24T17:22:54Z"))) == "2026-11-24T00:00:00.000000Z");
  // 2026-11-24 is a Tuesday; its week starts on Monday the 23rd.
  CHECK(to_iso8601(utc_week_start(at("2026-11-24T17:22:54Z"))) == "2026-11-23T00:00:00.000000Z");
  CHECK(to_iso8601(utc_week_start(at("2026-11-23T00:00:00Z"))) == "2026-11-23T00:00:00.000000Z");
  CHECK(to_iso8601(utc_week_start(at("2026-11-22T23:59:59Z"))) == "2026-11-16T00:00:00.000000Z");
}

TEST_CASE("requests per minute is a sliding window", "[unit][domain][routing][key_budget]") {
  key_budget budget;
  const key_caps caps{3, std::nullopt, std::nullopt};
  const auto start = at("2026-11-24T10:00:00Z");
  CHECK_FALSE(budget.admit(caps, start));
  CHECK_FALSE(budget.admit(caps, start + 10s));
  CHECK_FALSE(budget.admit(caps, start + 20s));
  auto refused = budget.admit(caps, start + 30s);
  REQUIRE(refused);
  CHECK(refused->retry_at == start + 60s);
  CHECK_THAT(refused->message, Catch::Contains("3 requests per minute"));
  // A refused request does not count: the first slot frees a minute after the first request.
  CHECK(budget.admit(caps, start + 59s));
  CHECK_FALSE(budget.admit(caps, start + 60s));
  CHECK(budget.admit(caps, start + 61s));
}

TEST_CASE("token caps count per UTC day and week and reset at their boundaries",
          "[unit][domain][routing][key_budget]") {
  key_budget budget;
  const key_caps caps{std::nullopt, 1000, 2500};
  const auto tuesday = at("2026-11-24T23:00:00Z");
  CHECK_FALSE(budget.admit(caps, tuesday));
  budget.add_tokens(999, tuesday);
  CHECK_FALSE(budget.admit(caps, tuesday));
  budget.add_tokens(1, tuesday);
  auto refused = budget.admit(caps, tuesday + 1min);
  REQUIRE(refused);
  CHECK(to_iso8601(refused->retry_at) == "2026-11-25T00:00:00.000000Z");
  CHECK_THAT(refused->message, Catch::Contains("tokens per day"));

  const auto wednesday = at("2026-11-25T08:00:00Z");
  CHECK_FALSE(budget.admit(caps, wednesday));
  budget.add_tokens(1000, wednesday);
  budget.seed(0, 500, wednesday); // counted by the request logs before this node saw the key
  const auto thursday = at("2026-11-26T08:00:00Z");
  refused = budget.admit(caps, thursday);
  REQUIRE(refused);
  CHECK_THAT(refused->message, Catch::Contains("tokens per week"));
  CHECK(to_iso8601(refused->retry_at) == "2026-11-30T00:00:00.000000Z");
  CHECK_FALSE(budget.admit(caps, at("2026-11-30T00:00:01Z")));
}

TEST_CASE("a key without caps is never refused", "[unit][domain][routing][key_budget]") {
  key_budget budget;
  const key_caps none;
  CHECK_FALSE(none.any());
  for (int i = 0; i < 1000; ++i) {
    REQUIRE_FALSE(budget.admit(none, at("2026-11-24T10:00:00Z")));
  }
}

TEST_CASE("token caps become day and week windows for the pooled view",
          "[unit][domain][routing][key_budget]") {
  key_budget budget;
  const auto now = at("2026-11-24T10:00:00Z");
  budget.seed(250, 600, now);
  auto windows = budget.windows({std::nullopt, 1000, 2000}, now);
  REQUIRE(windows.size() == 2);
  CHECK(windows[0].window_minutes == 1440);
  CHECK(windows[0].used_percent == Approx(25));
  CHECK(to_iso8601(windows[0].reset_at) == "2026-11-25T00:00:00.000000Z");
  CHECK(windows[1].window_minutes == 10080);
  CHECK(windows[1].used_percent == Approx(30));
  CHECK(to_iso8601(windows[1].reset_at) == "2026-11-30T00:00:00.000000Z");
  CHECK(budget.windows({60, std::nullopt, std::nullopt}, now).empty());
}
