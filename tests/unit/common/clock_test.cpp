#include "common/clock.hpp"

#include <cstdio>
#include <ctime>

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

TEST_CASE("times render like gmtime across the calendar, before 1970 included",
          "[unit][common][clock]") {
  using namespace std::chrono;
  CHECK(cxp::to_iso8601(cxp::time_point{}) == "1970-01-01T00:00:00.000000Z");
  CHECK(cxp::to_iso8601(cxp::time_point{microseconds{-1}}) == "1969-12-31T23:59:59.999999Z");
  CHECK(cxp::to_iso8601(cxp::time_point{sys_days{2024y / February / 29} + hours{23} + minutes{59}
                                        + seconds{59} + microseconds{999'999}})
        == "2024-02-29T23:59:59.999999Z");
  // Every day of a few centuries agrees with gmtime.
  for (int64_t day = -40'000; day < 80'000; day += 7) {
    const std::time_t at = day * 86'400 + 45'296;
    std::tm utc{};
    gmtime_r(&at, &utc);
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.000123Z",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec);
    INFO(day);
    REQUIRE(cxp::to_iso8601(cxp::time_point{seconds{at} + microseconds{123}}) == expected);
  }
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
