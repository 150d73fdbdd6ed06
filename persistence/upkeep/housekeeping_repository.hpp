#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// The history tables retention trims, each by its own time column. A request's attempts go
/// with it.
enum class history_table { request_logs, audit_events };

/// What one runtime cleanup deleted.
struct runtime_cleanup_counts {
  int64_t session_leases = 0;
  int64_t operator_sessions = 0;
  int64_t invites = 0;
  int64_t session_pins = 0;
  int64_t refresh_claims = 0;
  int64_t refresh_gates = 0;
  int64_t onboarding_flows = 0;
  int64_t upstream_invites = 0;
};

/// The SQL of retention and runtime cleanup. Every delete is bounded, so no call holds a long
/// lock on a busy table. Times are ISO-8601. Blocking: job workers only.
class housekeeping_repository {
public:
  explicit housekeeping_repository(database& db) : db_(db) {}

  /// Deletes at most `limit` rows of `table` older than `before` (oldest first), a request's
  /// attempts in the same transaction; the count of `table`'s rows.
  caf::expected<int64_t> delete_history(history_table table, const std::string& before,
                                        int64_t limit);

  /// Deletes runtime state that expired before `now`: session leases, HTTP session pins,
  /// refresh claims; operator sessions expired or revoked before `forget_before`; invites that
  /// were never accepted and expired before `forget_before`; refresh gates untouched since it;
  /// sign-in flows whose lifetime ended before `forget_before`; upstream invites never accepted
  /// that expired before it (their flows with them).
  caf::expected<runtime_cleanup_counts> clean_runtime(const std::string& now,
                                                      const std::string& forget_before);

private:
  database& db_;
};

} // namespace cxp::persistence
