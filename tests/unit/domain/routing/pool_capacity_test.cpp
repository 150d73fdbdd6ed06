#include "domain/routing/pool_capacity.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

const time_point now{std::chrono::seconds{1'800'000'000}};

quota_window window(int32_t window_minutes, double used, time_point reset,
                    std::string limit_id = "codex") {
  return {window_minutes == 10'080 ? "secondary" : "primary",
          window_minutes,
          used,
          reset,
          now - minutes{1},
          std::move(limit_id),
          ""};
}

quota_member member(std::string id, std::vector<quota_window> windows, bool routable = true) {
  quota_member m;
  m.account_id = std::move(id);
  m.routable = routable;
  m.windows = std::move(windows);
  return m;
}

} // namespace

TEST_CASE("pool capacity counts routable accounts no usage limit blocks",
          "[unit][domain][routing]") {
  std::vector<quota_member> members{
    member("a", {window(300, 40, now + hours{2}), window(10'080, 10, now + hours{50})}),
    member("b", {window(300, 100, now + hours{1}), window(10'080, 30, now + hours{50})}),
    member("c", {}, false),
  };
  members.push_back(member("d", {}));
  members.back().exhausted_until = now + minutes{5};

  const auto capacity = capacity_of(members, now);

  CHECK(capacity.accounts == 4);
  CHECK(capacity.eligible == 1);
  REQUIRE(capacity.primary_used_percent);
  // a 40, b 100, d blocked without 5 h evidence counts 100; c is not routable.
  CHECK(*capacity.primary_used_percent == Approx(80.0));
  REQUIRE(capacity.secondary_used_percent);
  // Weekly: a 10, b 30, d blocked without weekly evidence 100.
  CHECK(*capacity.secondary_used_percent == Approx(140.0 / 3.0).margin(0.01));
}

TEST_CASE("pool capacity: a limit whose reset passed blocks nothing, another family blocks "
          "nothing",
          "[unit][domain][routing]") {
  const std::vector<quota_member> members{
    member("a", {window(300, 100, now - minutes{1})}),
    member("b", {window(300, 100, now + hours{1}, "codex_other")}),
  };

  const auto capacity = capacity_of(members, now);

  CHECK(capacity.eligible == 2);
}

TEST_CASE("pool capacity of a pool with nothing routable is full, of an empty pool unknown",
          "[unit][domain][routing]") {
  SECTION("only paused or reauth-required accounts") {
    const auto capacity = capacity_of({member("a", {}, false), member("b", {}, false)}, now);
    CHECK(capacity.accounts == 2);
    CHECK(capacity.eligible == 0);
    CHECK(capacity.primary_used_percent == 100.0);
    CHECK(capacity.secondary_used_percent == 100.0);
  }
  SECTION("no accounts") {
    const auto capacity = capacity_of({}, now);
    CHECK(capacity.accounts == 0);
    CHECK(capacity.eligible == 0);
    CHECK_FALSE(capacity.primary_used_percent);
  }
  SECTION("every account blocked") {
    auto blocked = member("a", {window(300, 100, now + hours{1})});
    const auto capacity = capacity_of({blocked}, now);
    CHECK(capacity.eligible == 0);
    CHECK(capacity.primary_used_percent == 100.0);
  }
}
