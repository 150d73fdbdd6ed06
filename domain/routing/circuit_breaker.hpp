#pragma once

#include <chrono>
#include <cstdint>

#include "common/clock.hpp"

namespace cxp::domain {

struct circuit_settings {
  int32_t failure_threshold = 3;
  std::chrono::seconds open_for{60};
  int32_t half_open_probes = 1;
};

enum class circuit_state { closed, open, half_open };

/// The circuit of one (pool, account, model, route class): `failure_threshold` consecutive
/// failures open it for `open_for`; then up to `half_open_probes` attempts probe it; a probe
/// success closes it and a probe failure opens it again. Plain state, driven by the caller's
/// clock; owned by one actor, so not thread-safe.
class circuit_breaker {
public:
  explicit circuit_breaker(circuit_settings settings = {}) : settings_(settings) {}

  /// Whether an attempt may go through now; in half-open it takes one probe slot.
  bool try_acquire(time_point now);

  void record_success();
  void record_failure(time_point now);
  /// Ends an attempt that says nothing about health (the client went away, a 4xx): frees its
  /// probe slot without changing the state.
  void release_probe();

  /// The state as seen at `now` (an open circuit whose time passed reports half_open).
  circuit_state state(time_point now) const;

  /// Opens the circuit until `until` unless it is open longer already (another node opened
  /// its circuit of the same account, model and route).
  void open_until(time_point until);

  /// When an open circuit half-opens.
  time_point opened_until() const { return open_until_; }

private:
  circuit_settings settings_;
  circuit_state state_ = circuit_state::closed;
  int32_t failures_ = 0;
  int32_t probes_in_flight_ = 0;
  time_point open_until_{};
};

} // namespace cxp::domain
