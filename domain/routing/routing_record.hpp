#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::domain {

/// How one lease decision treated one account of the pool.
struct considered_account {
  std::string account_id;
  std::string outcome; ///< chosen | skipped | failed (its checkout failed; the next was tried)
  /// Empty for the chosen account. Skipped: paused | reauth_required | disabled | inactive |
  /// model_unsupported | circuit_open | quota_exhausted | pinned_elsewhere | demoted |
  /// ranked_lower | outside_ring. Failed: the error code of the checkout.
  std::string reason;
};

/// One lease decision of the pool: its accounts in the order routing considered them (the ranked
/// eligible ones first, best first, then the ones left out). Metadata only: ids and codes.
struct routing_decision {
  int32_t attempt = 0; ///< the attempt the lease was for (1-based); set by the turn
  std::vector<considered_account> candidates;
};

/// One account in a request's routing record.
struct routed_candidate {
  std::string account_id;
  std::string outcome; ///< served | skipped | failed
  std::string reason;  ///< why it was skipped or failed; empty when it served
  int32_t attempt = 0; ///< the attempt its outcome comes from
};

/// At most this many candidates are stored per request; the rest are counted as omitted.
inline constexpr size_t max_routed_candidates = 64;

/// The routing record of a request from its lease decisions (in order) and its attempts: one entry
/// per account, in the order it was first considered. A skipped account takes the reason of the
/// latest decision that skipped it; an account that was granted takes the outcome of its last
/// attempt (`served` when it succeeded, or with reason `cancelled` when the client left; `failed`
/// with the attempt's error code otherwise), or `failed`/`not_attempted` without one.
std::vector<routed_candidate>
merge_routing(const std::vector<routing_decision>& decisions,
              const std::vector<persistence::request_attempt_row>& attempts);

/// `{"candidates":[{account_id,outcome,reason,attempt}],"omitted":n}` as stored in the request
/// log (bounded by `max_routed_candidates`); nullopt when nothing was decided.
std::optional<std::string> routing_json(const std::vector<routed_candidate>& candidates);

} // namespace cxp::domain
