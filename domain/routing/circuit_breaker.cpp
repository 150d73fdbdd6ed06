#include "domain/routing/circuit_breaker.hpp"

namespace cxp::domain {

circuit_state circuit_breaker::state(time_point now) const {
  if (state_ == circuit_state::open && now >= open_until_) {
    return circuit_state::half_open;
  }
  return state_;
}

bool circuit_breaker::try_acquire(time_point now) {
  switch (state(now)) {
  case circuit_state::closed:
    return true;
  case circuit_state::open:
    return false;
  case circuit_state::half_open:
    state_ = circuit_state::half_open;
    if (probes_in_flight_ >= settings_.half_open_probes) {
      return false;
    }
    ++probes_in_flight_;
    return true;
  }
  return false;
}

void circuit_breaker::record_success() {
  state_ = circuit_state::closed;
  failures_ = 0;
  probes_in_flight_ = 0;
}

void circuit_breaker::record_failure(time_point now) {
  if (state_ == circuit_state::half_open || ++failures_ >= settings_.failure_threshold) {
    state_ = circuit_state::open;
    open_until_ = now + settings_.open_for;
    failures_ = 0;
    probes_in_flight_ = 0;
  }
}

void circuit_breaker::open_until(time_point until) {
  if (state_ == circuit_state::open && open_until_ >= until) {
    return;
  }
  state_ = circuit_state::open;
  open_until_ = until;
  failures_ = 0;
  probes_in_flight_ = 0;
}

void circuit_breaker::release_probe() {
  if (probes_in_flight_ > 0) {
    --probes_in_flight_;
  }
}

} // namespace cxp::domain
