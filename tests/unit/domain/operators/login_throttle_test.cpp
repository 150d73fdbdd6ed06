#include "domain/operators/login_throttle.hpp"

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "common/clock.hpp"

using cxp::manual_clock;
using cxp::domain::login_throttle;
using cxp::domain::login_throttle_config;
using namespace std::chrono_literals;

TEST_CASE("an account locks after its failure limit, from any IP", "[unit][domain][admin]") {
  manual_clock clock;
  login_throttle throttle;
  for (int i = 0; i < 4; ++i) {
    throttle.record_failure("Owner@Example.com", "10.0.0." + std::to_string(i), clock.now());
    CHECK_FALSE(throttle.is_locked("owner@example.com", "10.0.1.1", clock.now()));
  }
  throttle.record_failure("owner@example.com", "10.0.0.9", clock.now());
  CHECK(throttle.is_locked("owner@example.com", "10.0.1.1", clock.now()));
  CHECK(throttle.is_locked("OWNER@example.com", "", clock.now()));
  CHECK_FALSE(throttle.is_locked("other@example.com", "10.0.1.1", clock.now()));
}

TEST_CASE("a client IP locks after its failure limit across accounts", "[unit][domain][admin]") {
  manual_clock clock;
  login_throttle throttle{login_throttle_config{100, 15min, 3, 10min}};
  throttle.record_failure("a@example.com", "192.0.2.1", clock.now());
  throttle.record_failure("b@example.com", "192.0.2.1", clock.now());
  CHECK_FALSE(throttle.is_locked("c@example.com", "192.0.2.1", clock.now()));
  throttle.record_failure("c@example.com", "192.0.2.1", clock.now());
  CHECK(throttle.is_locked("d@example.com", "192.0.2.1", clock.now()));
  CHECK_FALSE(throttle.is_locked("d@example.com", "192.0.2.2", clock.now()));
}

TEST_CASE("failures older than the window stop counting", "[unit][domain][admin]") {
  manual_clock clock;
  login_throttle throttle;
  for (int i = 0; i < 4; ++i) {
    throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  }
  clock.advance(10min);
  throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  CHECK(throttle.is_locked("owner@example.com", "10.0.0.2", clock.now()));
  clock.advance(5min + 1s);
  // The first four left the window; only the one from minute 10 remains.
  CHECK_FALSE(throttle.is_locked("owner@example.com", "10.0.0.2", clock.now()));
  for (int i = 0; i < 3; ++i) {
    throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  }
  CHECK_FALSE(throttle.is_locked("owner@example.com", "10.0.0.2", clock.now()));
  throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  CHECK(throttle.is_locked("owner@example.com", "10.0.0.2", clock.now()));
}

TEST_CASE("a successful login resets the account counter but not the IP counter",
          "[unit][domain][admin]") {
  manual_clock clock;
  login_throttle throttle{login_throttle_config{3, 15min, 4, 15min}};
  throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  throttle.record_success("Owner@example.com", "10.0.0.1");
  throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  throttle.record_failure("owner@example.com", "10.0.0.1", clock.now());
  CHECK_FALSE(throttle.is_locked("owner@example.com", "10.0.0.3", clock.now()));
  // Four failures came from 10.0.0.1 in total: the IP stays locked despite the success.
  CHECK(throttle.is_locked("someone@example.com", "10.0.0.1", clock.now()));
}

TEST_CASE("the throttle keeps a bounded number of keys", "[unit][domain][admin]") {
  manual_clock clock;
  login_throttle_config config;
  config.max_tracked_keys = 8;
  login_throttle throttle{config};
  for (int i = 0; i < 100; ++i) {
    throttle.record_failure("user" + std::to_string(i) + "@example.com",
                            "10.0.0." + std::to_string(i), clock.now());
    clock.advance(1s);
  }
  CHECK(throttle.tracked_keys() <= 16);
  SECTION("the newest key survives eviction") {
    for (int i = 0; i < 4; ++i) {
      throttle.record_failure("user99@example.com", "10.0.0.99", clock.now());
    }
    CHECK(throttle.is_locked("user99@example.com", "", clock.now()));
  }
  SECTION("expired keys are swept first") {
    clock.advance(16min);
    throttle.record_failure("late@example.com", "10.0.9.9", clock.now());
    CHECK(throttle.tracked_keys() <= 16);
    CHECK_FALSE(throttle.is_locked("user99@example.com", "10.0.0.99", clock.now()));
  }
}

TEST_CASE("empty identifiers and disabled limits never lock", "[unit][domain][admin]") {
  manual_clock clock;
  login_throttle throttle{login_throttle_config{0, 15min, 2, 15min}};
  for (int i = 0; i < 10; ++i) {
    throttle.record_failure("owner@example.com", "", clock.now());
  }
  CHECK_FALSE(throttle.is_locked("owner@example.com", "", clock.now()));
  CHECK(throttle.tracked_keys() == 0);
}
