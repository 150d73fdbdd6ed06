#include "common/clock.hpp"

#include <catch2/catch.hpp>

TEST_CASE("times render as fixed-width UTC and parse back", "[unit][common][clock]") {
  const cxp::time_point at{std::chrono::seconds{1'795'000'000} + std::chrono::microseconds{42}};
  const auto text = cxp::to_iso8601(at);
  CHECK(text == "2026-11-18T11:06:40.000042Z");
  auto parsed = cxp::parse_iso8601(text);
  REQUIRE(parsed);
  CHECK(*parsed == at);
  CHECK(cxp::parse_iso8601("2026-11-18T11:06:40Z")
        == cxp::time_point{std::chrono::seconds{1'795'000'000}});
  CHECK_FALSE(cxp::parse_iso8601("yesterday"));
  CHECK_FALSE(cxp::parse_iso8601("2026-13-01T00:00:00Z"));
}

TEST_CASE("rendered times sort like the instants they name", "[unit][common][clock]") {
  const cxp::time_point early{std::chrono::seconds{999'999'999}};
  const cxp::time_point late{std::chrono::seconds{1'000'000'001}};
  CHECK(cxp::to_iso8601(early) < cxp::to_iso8601(late));
}

TEST_CASE("the manual clock moves only when told", "[unit][common][clock]") {
  cxp::manual_clock clock;
  const auto start = clock.now();
  clock.advance(std::chrono::seconds{5});
  CHECK(clock.now() - start == std::chrono::seconds{5});
}
