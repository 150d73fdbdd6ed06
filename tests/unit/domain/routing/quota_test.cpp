#include "domain/routing/quota.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {
const time_point now{seconds{1'795'000'000}};

quota_window main_window(std::string kind, int32_t window_minutes, double used,
                         std::optional<time_point> reset, time_point observed) {
  return {std::move(kind), window_minutes, used, reset, observed, std::string{main_limit}, ""};
}
} // namespace

TEST_CASE("rate-limit headers become primary and secondary windows",
          "[unit][domain][routing][quota]") {
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

TEST_CASE("each limit family's headers become its windows, named, in family order",
          "[unit][domain][routing][quota]") {
  const std::map<std::string, std::string> headers = {
    {"x-codex-primary-used-percent", "10"},
    {"x-codex-primary-window-minutes", "300"},
    {"x-codex-bengalfox-primary-used-percent", "50"},
    {"x-codex-bengalfox-limit-name", "GPT-5.3-Codex-Spark"},
    {"x-codex-bengalfox-secondary-used-percent", "70"},
    {"x-codex-bengalfox-secondary-reset-after-seconds", "60"},
    {"x-other-secondary-window-minutes", "10080"}, // no percentage: no window
    {"x-primary-used-percent", "5"},               // no family name
    {"x-codex-credits-has-credits", "true"},
    {"codex-primary-used-percent", "1"}, // not an x- header
  };
  auto windows = parse_rate_limit_headers(headers, now);
  REQUIRE(windows.size() == 3);
  CHECK(windows[0].limit_id == main_limit);
  CHECK(windows[0].limit_name.empty());
  CHECK(windows[0].used_percent == Approx(10));
  CHECK(windows[0].window_minutes == 300);
  CHECK(windows[1].limit_id == "codex_bengalfox");
  CHECK(windows[1].limit_name == "GPT-5.3-Codex-Spark");
  CHECK(windows[1].kind == "primary");
  CHECK(windows[1].used_percent == Approx(50));
  CHECK_FALSE(windows[1].reset_at);
  CHECK(windows[2].limit_id == "codex_bengalfox");
  CHECK(windows[2].kind == "secondary");
  CHECK(windows[2].used_percent == Approx(70));
  CHECK(windows[2].reset_at == now + seconds{60});
}

TEST_CASE("a weekly window reported as primary is stored as secondary",
          "[unit][domain][routing][quota]") {
  auto windows = parse_rate_limit_headers(
    {{"x-codex-primary-used-percent", "3"}, {"x-codex-primary-window-minutes", "10080"}}, now);
  REQUIRE(windows.size() == 1);
  CHECK(windows[0].kind == "secondary");
}

TEST_CASE("malformed or missing percentages yield no window", "[unit][domain][routing][quota]") {
  CHECK(parse_rate_limit_headers({{"x-codex-primary-used-percent", "lots"}}, now).empty());
  CHECK(parse_rate_limit_headers({{"x-codex-primary-window-minutes", "300"}}, now).empty());
}

TEST_CASE("codex.rate_limits events and usage-limit bodies are read",
          "[unit][domain][routing][quota]") {
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
          "[unit][domain][routing][quota]") {
  quota_window full = main_window("primary", 300, 100.0, now + minutes{30}, now);
  CHECK(is_exhausted({full}, now));
  CHECK(exhausted_until({full}, now) == now + minutes{30});
  CHECK_FALSE(is_exhausted({full}, now + minutes{31}));
  CHECK_FALSE(is_exhausted({full}, now + quota_freshness + seconds{1}));
  quota_window no_reset = main_window("primary", 300, 100.0, std::nullopt, now);
  CHECK_FALSE(is_exhausted({no_reset}, now));
  quota_window weekly = main_window("secondary", 10'080, 100.0, now + minutes{600}, now);
  CHECK(exhausted_until({full, weekly}, now) == now + minutes{600});
}

TEST_CASE("capacity is the smallest remaining share of usable windows",
          "[unit][domain][routing][quota]") {
  quota_window five_hour = main_window("primary", 300, 25.0, now + minutes{60}, now);
  quota_window weekly = main_window("secondary", 10'080, 90.0, now + minutes{6000}, now);
  CHECK(capacity_score({five_hour, weekly}, now) == Approx(10.0));
  CHECK(capacity_score({}, now) == Approx(0.0));
  quota_window stale = main_window("primary", 300, 0.0, now + minutes{60}, now - minutes{20});
  CHECK(capacity_score({stale}, now) == Approx(0.0));
}

TEST_CASE("a usage document gives windows; merging keeps the newest of each kind",
          "[unit][routing][quota]") {
  const auto document = nlohmann::json::parse(R"({"plan_type":"plus","rate_limit":{
    "allowed":true,"limit_reached":false,
    "primary_window":{"used_percent":12,"limit_window_seconds":18000,"reset_after_seconds":600},
    "secondary_window":{"used_percent":40,"limit_window_seconds":604800,"reset_at":1800100000}}})");
  auto windows = cxp::domain::parse_usage_document(document, now);
  REQUIRE(windows.size() == 2);
  CHECK(windows[0].kind == "primary");
  CHECK(windows[0].window_minutes == 300);
  CHECK(windows[0].reset_at == now + std::chrono::seconds{600});
  CHECK(windows[1].kind == "secondary");
  CHECK(windows[1].used_percent == 40);
  CHECK(cxp::domain::parse_usage_document(nlohmann::json::object(), now).empty());

  std::vector<cxp::domain::quota_window> newer = {
    main_window("primary", 300, 50, now + std::chrono::seconds{60}, now + std::chrono::seconds{5})};
  auto merged = cxp::domain::merge_windows(windows, newer);
  REQUIRE(merged.size() == 2);
  CHECK(merged[0].used_percent == 50);
  std::vector<cxp::domain::quota_window> older = {
    main_window("secondary", 10080, 1, std::nullopt, now - std::chrono::seconds{5})};
  CHECK(cxp::domain::merge_windows(merged, older)[1].used_percent == 40);
}

TEST_CASE("windows are matched by family and duration, not by the slot they came in",
          "[unit][domain][routing][quota]") {
  // A plan that reports its weekly window as primary keeps one weekly window, beside the 5 h one.
  auto windows = parse_rate_limit_headers({{"x-codex-primary-used-percent", "20"},
                                           {"x-codex-primary-window-minutes", "300"},
                                           {"x-codex-secondary-used-percent", "30"},
                                           {"x-codex-secondary-window-minutes", "10080"}},
                                          now);
  auto weekly_as_primary = parse_rate_limit_headers(
    {{"x-codex-primary-used-percent", "35"}, {"x-codex-primary-window-minutes", "10080"}},
    now + seconds{1});
  auto merged = merge_windows(windows, weekly_as_primary);
  REQUIRE(merged.size() == 2);
  CHECK(merged[0].window_minutes == 300);
  CHECK(merged[0].used_percent == Approx(20));
  CHECK(merged[1].window_minutes == 10'080);
  CHECK(merged[1].used_percent == Approx(35));
}

TEST_CASE("additional limit families are separate evidence that blocks only their model",
          "[unit][domain][routing][quota]") {
  const std::map<std::string, std::string> headers = {
    {"x-codex-primary-used-percent", "10"},
    {"x-codex-primary-window-minutes", "300"},
    {"x-codex-bengalfox-primary-used-percent", "100"},
    {"x-codex-bengalfox-primary-window-minutes", "300"},
    {"x-codex-bengalfox-primary-reset-at", "1795003600"},
    {"x-codex-bengalfox-limit-name", "GPT-5.3-Codex-Spark"},
  };
  auto windows = parse_rate_limit_headers(headers, now);
  REQUIRE(windows.size() == 2);
  CHECK(windows[0].limit_id == "codex");
  CHECK(windows[1].limit_id == "codex_bengalfox");
  CHECK(windows[1].limit_name == "GPT-5.3-Codex-Spark");
  CHECK(is_exhausted(covering(windows, "gpt-5.3-codex-spark"), now));
  CHECK_FALSE(is_exhausted(covering(windows, "gpt-5.5"), now));
  CHECK_FALSE(is_exhausted(covering(windows, {}), now));
  CHECK(capacity_score(covering(windows, "gpt-5.5"), now) == Approx(0.0)); // no reset known

  // An event of that family (no name) keeps the name learned from the headers.
  auto event = nlohmann::json::parse(R"({"type":"codex.rate_limits",
    "metered_limit_name":"codex_bengalfox",
    "rate_limits":{"primary":{"used_percent":40,"window_minutes":300,"reset_at":1795003600}}})");
  auto from_event = parse_rate_limits_event(event, now + seconds{1});
  REQUIRE(from_event.size() == 1);
  CHECK(from_event[0].limit_id == "codex_bengalfox");
  auto merged = merge_windows(windows, from_event);
  REQUIRE(merged.size() == 2);
  CHECK(merged[1].used_percent == Approx(40));
  CHECK(merged[1].limit_name == "GPT-5.3-Codex-Spark");

  // The usage document's additional_rate_limits are the same evidence.
  auto document = nlohmann::json::parse(R"({"plan_type":"plus",
    "rate_limit":{"primary_window":{"used_percent":5,"limit_window_seconds":18000}},
    "additional_rate_limits":[{"limit_name":"GPT-5.3-Codex-Spark","metered_feature":"codex_bengalfox",
      "rate_limit":{"primary_window":{"used_percent":100,"limit_window_seconds":18000,
                                      "reset_after_seconds":600}}}]})");
  auto usage = parse_usage_document(document, now);
  REQUIRE(usage.size() == 2);
  CHECK(usage[1].limit_id == "codex_bengalfox");
  CHECK(is_exhausted(covering(usage, "GPT-5.3-Codex-Spark"), now));
  CHECK_FALSE(is_exhausted(covering(usage, "gpt-5.5"), now));
}

TEST_CASE("a usage limit of an additional family blocks only that family",
          "[unit][domain][routing][quota]") {
  const auto reset = now + minutes{30};
  auto account_wide = usage_limit_of(reset, "codex", {}, now);
  CHECK(account_wide.account_until == reset);
  CHECK_FALSE(account_wide.family_window);
  CHECK(usage_limit_of(reset, "", {}, now).account_until == reset);

  quota_window named{"primary", 300, 90, reset, now, "codex_bengalfox", "GPT-5.3-Codex-Spark"};
  auto per_model = usage_limit_of(reset, "codex-bengalfox", {named}, now);
  CHECK_FALSE(per_model.account_until);
  REQUIRE(per_model.family_window);
  CHECK(per_model.family_window->limit_id == "codex_bengalfox");
  CHECK(per_model.family_window->limit_name == "GPT-5.3-Codex-Spark");
  CHECK(is_exhausted(covering({*per_model.family_window}, "gpt-5.3-codex-spark"), now));
  CHECK_FALSE(is_exhausted(covering({*per_model.family_window}, "gpt-5.5"), now));
}
