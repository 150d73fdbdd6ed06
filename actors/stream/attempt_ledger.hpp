#pragma once

// How an attempt's end becomes what the pool and account actors receive. Both transports
// (edge/routes/codex/proxy_turn*, actors/stream) report through it, so one outcome means one report
// result everywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/pool/routing_messages.hpp"
#include "domain/turn/attempt_outcome.hpp"

namespace cxp::actors {

/// What both transports know about an attempt when it ends.
struct attempt_ending {
  std::string model;
  route_class route = route_class::responses;
  std::string session_key; ///< hashed, empty without a session
  std::string api_key_id;
  int64_t tokens = 0;                        ///< input + output tokens of the answer
  std::vector<domain::quota_window> quota;   ///< windows observed in this attempt
  std::optional<time_point> exhausted_until; ///< from a usage-limit answer
  std::string plan_type;                     ///< empty when the answer named none
};

/// The report the granting pool gets for an attempt on `grant` that ended as `outcome`.
inline attempt_report make_attempt_report(const lease_grant& grant, domain::attempt_outcome outcome,
                                          attempt_ending ending) {
  attempt_report report;
  report.account_id = grant.account_id;
  report.model = std::move(ending.model);
  report.route = ending.route;
  report.session_key = std::move(ending.session_key);
  report.result = outcome;
  report.probe = grant.probe;
  report.api_key_id = std::move(ending.api_key_id);
  report.tokens = ending.tokens;
  report.quota = std::move(ending.quota);
  report.exhausted_until = ending.exhausted_until;
  if (!ending.plan_type.empty()) {
    report.plan_type = std::move(ending.plan_type);
  }
  return report;
}

} // namespace cxp::actors
