#pragma once

// The bridge from the turn policy's attempt outcome (domain, below actors) to what the pool and
// account actors receive. Both transports (edge/routes/codex/proxy_turn*, actors/stream) report
// through it, so one outcome means one report result everywhere.

#include "actors/pool/routing_messages.hpp"
#include "domain/turn/attempt_outcome.hpp"

namespace cxp::actors {

/// The pool's report result for `outcome` (the two enums list the same cases in one order).
constexpr attempt_result to_attempt_result(domain::attempt_outcome outcome) {
  using domain::attempt_outcome;
  static_assert(static_cast<int>(attempt_outcome::succeeded)
                == static_cast<int>(attempt_result::succeeded));
  static_assert(static_cast<int>(attempt_outcome::usage_limited)
                == static_cast<int>(attempt_result::usage_limited));
  static_assert(static_cast<int>(attempt_outcome::upstream_error)
                == static_cast<int>(attempt_result::upstream_error));
  static_assert(static_cast<int>(attempt_outcome::network_error)
                == static_cast<int>(attempt_result::network_error));
  static_assert(static_cast<int>(attempt_outcome::unauthorized)
                == static_cast<int>(attempt_result::unauthorized));
  static_assert(static_cast<int>(attempt_outcome::rejected)
                == static_cast<int>(attempt_result::rejected));
  static_assert(static_cast<int>(attempt_outcome::cancelled)
                == static_cast<int>(attempt_result::cancelled));
  return static_cast<attempt_result>(outcome);
}

} // namespace cxp::actors
