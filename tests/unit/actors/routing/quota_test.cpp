#include "actors/routing/quota.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::actors;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {
const time_point now{seconds{1'795'000'000}};
}

TEST_CASE("rate-limit headers become primary and secondary windows",
          "[unit][actors][routing][quota]") {
  const std::map<std::string, std::string> headers = {
    {"x-codex-primary-used-percent", "12.5"},      {"x-codex-primary-window-minutes", "300"},
    {"x-codex-primary-reset-at", "1795010000"},    {"x-codex-secondary-used-percent", "40"},
    {"x-codex-secondary-window-minutes", "10080"}, {"x-codex-secondary-reset-after-seconds", "600"},
  };
  auto windows = parse_rate_limit_headers(headers, now);
  REQUIRE(windows.size() == 2);
  CHECK(windows[0].kind == "primary");
  CHECK(windows[0].used_percent == Approx(12.5));
  CHECK(windows[0].window_minutes == 300);
  CHECK(windows[0].reset_at == time_point{seconds{1'795'010'000}});
  CHECK(windows[1].kind == "secondary");
  CHECK(windows[1].reset_at == now + seconds{600});
  CHECK(windows[1].observed_at == now);
}

TEST_CASE("a weekly window reported as primary is stored as secondary",
          "[unit][actors][routing][quota]") {
  auto windows = parse_rate_limit_headers(
    {{"x-codex-primary-used-percent", "3"}, {"x-codex-primary-window-minutes", "10080"}}, now);
  REQUIRE(windows.size() == 1);
  CHECK(windows[0].kind == "secondary");
}

TEST_CASE("malformed or missing percentages yield no window", "[unit][actors][routing][quota]") {
  CHECK(parse_rate_limit_headers({{"x-codex-primary-used-percent", "lots"}}, now).empty());
  CHECK(parse_rate_limit_headers({{"x-codex-primary-window-minutes", "300"}}, now).empty());
}

TEST_CASE("codex.rate_limits events and usage-limit bodies are read",
          "[unit][actors][routing][quota]") {
  auto event = nlohmann::json::parse(R"({"type":"codex.rate_limits","rate_limits":{"allowed":true,
    "primary":{"used_percent":100.0,"window_minutes":300,"reset_at":1795003600}}})");
  auto windows = parse_rate_limits_event(event, now);
  REQUIRE(windows.size() == 1);
  CHECK(windows[0].used_percent == Approx(100.0));
  CHECK(parse_rate_limits_event(nlohmann::json::parse(R"({"rate_limits":{"allowed":true}})"), now)
          .empty());
  auto body =
    nlohmann::json::parse(R"({"error":{"type":"usage_limit_reached","resets_at":1795009999}})");
  CHECK(parse_usage_limit_reset(body, now) == time_point{seconds{1'795'009'999}});
  auto relative =
    nlohmann::json::parse(R"({"error":{"type":"usage_limit_reached","resets_in_seconds":60}})");
  CHECK(parse_usage_limit_reset(relative, now) == now + seconds{60});
  CHECK_FALSE(parse_usage_limit_reset(nlohmann::json::parse(R"({"detail":"x"})"), now));
}

TEST_CASE("an account is exhausted only while a fresh full window has not reset",
          "[unit][actors][routing][quota]") {
  quota_window full{"primary", 300, 100.0, now + minutes{30}, now};
  CHECK(is_exhausted({full}, now));
  CHECK(exhausted_until({full}, now) == now + minutes{30});
  CHECK_FALSE(is_exhausted({full}, now + minutes{31}));
  CHECK_FALSE(is_exhausted({full}, now + quota_freshness + seconds{1}));
  quota_window no_reset{"primary", 300, 100.0, std::nullopt, now};
  CHECK_FALSE(is_exhausted({no_reset}, now));
  quota_window weekly{"secondary", 10'080, 100.0, now + minutes{600}, now};
  CHECK(exhausted_until({full, weekly}, now) == now + minutes{600});
}

TEST_CASE("capacity is the smallest remaining share of usable windows",
          "[unit][actors][routing][quota]") {
  quota_window five_hour{"primary", 300, 25.0, now + minutes{60}, now};
  quota_window weekly{"secondary", 10'080, 90.0, now + minutes{6000}, now};
  CHECK(capacity_score({five_hour, weekly}, now) == Approx(10.0));
  CHECK(capacity_score({}, now) == Approx(0.0));
  quota_window stale{"primary", 300, 0.0, now + minutes{60}, now - minutes{20}};
  CHECK(capacity_score({stale}, now) == Approx(0.0));
}

TEST_CASE("a usage document gives windows; merging keeps the newest of each kind",
          "[unit][routing][quota]") {
  const auto document = nlohmann::json::parse(R"({"plan_type":"plus","rate_limit":{
    "allowed":true,"limit_reached":false,
    "primary_window":{"used_percent":12,"limit_window_seconds":18000,"reset_after_seconds":600},
    "secondary_window":{"used_percent":40,"limit_window_seconds":604800,"reset_at":1800100000}}})");
  auto windows = cxp::actors::parse_usage_document(document, now);
  REQUIRE(windows.size() == 2);
  CHECK(windows[0].kind == "primary");
  CHECK(windows[0].window_minutes == 300);
  CHECK(windows[0].reset_at == now + std::chrono::seconds{600});
  CHECK(windows[1].kind == "secondary");
  CHECK(windows[1].used_percent == 40);
  CHECK(cxp::actors::parse_usage_document(nlohmann::json::object(), now).empty());

  std::vector<cxp::actors::quota_window> newer = {
    {"primary", 300, 50, now + std::chrono::seconds{60}, now + std::chrono::seconds{5}}};
  auto merged = cxp::actors::merge_windows(windows, newer);
  REQUIRE(merged.size() == 2);
  CHECK(merged[0].used_percent == 50);
  std::vector<cxp::actors::quota_window> older = {
    {"secondary", 10080, 1, std::nullopt, now - std::chrono::seconds{5}}};
  CHECK(cxp::actors::merge_windows(merged, older)[1].used_percent == 40);
}
