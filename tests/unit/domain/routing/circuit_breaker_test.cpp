#include "domain/routing/circuit_breaker.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;

TEST_CASE("three failures open the circuit for its open time, then one probe may pass",
          "[unit][domain][routing][circuit]") {
  manual_clock clock;
  circuit_breaker circuit{{3, std::chrono::seconds{60}, 1}};
  circuit.record_failure(clock.now());
  circuit.record_failure(clock.now());
  CHECK(circuit.state(clock.now()) == circuit_state::closed);
  CHECK(circuit.try_acquire(clock.now()));
  circuit.record_failure(clock.now());
  CHECK(circuit.state(clock.now()) == circuit_state::open);
  CHECK_FALSE(circuit.try_acquire(clock.now()));

  clock.advance(std::chrono::seconds{59});
  CHECK_FALSE(circuit.try_acquire(clock.now()));
  clock.advance(std::chrono::seconds{1});
  CHECK(circuit.state(clock.now()) == circuit_state::half_open);
  CHECK(circuit.try_acquire(clock.now()));
  CHECK_FALSE(circuit.try_acquire(clock.now())); // the single probe slot is taken

  SECTION("a probe success closes it") {
    circuit.record_success();
    CHECK(circuit.state(clock.now()) == circuit_state::closed);
    CHECK(circuit.try_acquire(clock.now()));
  }
  SECTION("a probe failure opens it again") {
    circuit.record_failure(clock.now());
    CHECK(circuit.state(clock.now()) == circuit_state::open);
    clock.advance(std::chrono::seconds{60});
    CHECK(circuit.try_acquire(clock.now()));
  }
}

TEST_CASE("a success resets the failure count of a closed circuit",
          "[unit][domain][routing][circuit]") {
  manual_clock clock;
  circuit_breaker circuit;
  circuit.record_failure(clock.now());
  circuit.record_failure(clock.now());
  circuit.record_success();
  circuit.record_failure(clock.now());
  circuit.record_failure(clock.now());
  CHECK(circuit.state(clock.now()) == circuit_state::closed);
}

TEST_CASE("a circuit another node opened stays open here until its time, never shorter",
          "[unit][domain][routing][circuit]") {
  manual_clock clock;
  circuit_breaker circuit{{3, std::chrono::seconds{60}, 1}};
  const auto until = clock.now() + std::chrono::seconds{30};
  circuit.open_until(until);
  CHECK(circuit.state(clock.now()) == circuit_state::open);
  CHECK(circuit.opened_until() == until);
  CHECK_FALSE(circuit.try_acquire(clock.now()));
  circuit.open_until(clock.now() + std::chrono::seconds{10}); // an earlier end changes nothing
  CHECK(circuit.opened_until() == until);
  clock.advance(std::chrono::seconds{30});
  CHECK(circuit.state(clock.now()) == circuit_state::half_open);
  CHECK(circuit.try_acquire(clock.now()));
  circuit.record_success();
  CHECK(circuit.state(clock.now()) == circuit_state::closed);
}
