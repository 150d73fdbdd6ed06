#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// An account whose token should be refreshed, at the generation the refresh replaces.
struct refresh_candidate {
  std::string account_id;
  int64_t generation = 0;
};

/// The SQL of the jobs that keep idle accounts usable: which tokens expire soon and which
/// accounts' quota evidence is old. Only active accounts assigned to a pool count: nothing
/// routes over the others. Times are ISO-8601. Blocking: job workers only.
class account_upkeep_repository {
public:
  explicit account_upkeep_repository(database& db) : db_(db) {}

  /// Accounts whose access token expires before `expiring_before`, except those whose last
  /// transient refresh failure happened after `failed_after` (their cooldown).
  caf::expected<std::vector<refresh_candidate>>
  refresh_candidates(const std::string& expiring_before, const std::string& failed_after);

  /// Accounts whose newest quota window was observed before `observed_before`, or never.
  caf::expected<std::vector<std::string>> stale_evidence(const std::string& observed_before);

private:
  database& db_;
};

} // namespace cxp::persistence
