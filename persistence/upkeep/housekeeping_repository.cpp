#include "persistence/upkeep/housekeeping_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

struct history_shape {
  const char* table;
  const char* time_column;
};

history_shape shape_of(history_table table) {
  switch (table) {
  case history_table::request_logs:
    return {"request_logs", "occurred_at"};
  case history_table::audit_events:
    return {"audit_events", "occurred_at"};
  }
  return {"request_logs", "occurred_at"};
}

int64_t delete_where(soci::session& sql, const std::string& statement, const std::string& at) {
  soci::statement st = (sql.prepare << statement, soci::use(at));
  st.execute(true);
  return static_cast<int64_t>(st.get_affected_rows());
}

} // namespace

caf::expected<int64_t> housekeeping_repository::delete_history(history_table table,
                                                               const std::string& before,
                                                               int64_t limit) {
  const auto shape = shape_of(table);
  const long long batch = limit;
  // A subquery with LIMIT, because neither dialect limits a DELETE portably; ordered by id too,
  // so the attempts' delete and the requests' pick the same rows.
  const std::string oldest = std::string{"SELECT id FROM "} + shape.table + " WHERE "
                             + shape.time_column + " < :before ORDER BY " + shape.time_column
                             + ", id LIMIT :batch";
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    if (table == history_table::request_logs) {
      soci::statement attempts =
        (sql.prepare << "DELETE FROM request_attempts WHERE request_id IN (" << oldest << ")",
         soci::use(before), soci::use(batch));
      attempts.execute(true);
    }
    soci::statement rows =
      (sql.prepare << "DELETE FROM " << shape.table << " WHERE id IN (" << oldest << ")",
       soci::use(before), soci::use(batch));
    rows.execute(true);
    const auto deleted = static_cast<int64_t>(rows.get_affected_rows());
    work.commit();
    return deleted;
  });
}

caf::expected<runtime_cleanup_counts>
housekeeping_repository::clean_runtime(const std::string& now, const std::string& forget_before) {
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    runtime_cleanup_counts counts;
    counts.session_leases =
      delete_where(sql, "DELETE FROM session_leases WHERE expires_at < :now", now);
    counts.session_pins =
      delete_where(sql, "DELETE FROM http_session_pins WHERE expires_at < :now", now);
    counts.refresh_claims =
      delete_where(sql, "DELETE FROM account_refresh_claims WHERE claimed_until < :now", now);
    {
      soci::statement st =
        (sql.prepare << "DELETE FROM operator_sessions WHERE expires_at < :before OR "
                        "(status = 'revoked' AND revoked_at < :revoked_before)",
         soci::use(forget_before), soci::use(forget_before));
      st.execute(true);
      counts.operator_sessions = static_cast<int64_t>(st.get_affected_rows());
    }
    counts.invites =
      delete_where(sql, "DELETE FROM invites WHERE status <> 'accepted' AND expires_at < :before",
                   forget_before);
    counts.refresh_gates = delete_where(
      sql, "DELETE FROM oauth_refresh_gates WHERE touched_at < :before", forget_before);
    // A sign-in flow whose lifetime (minutes) ended a week ago is over, whatever its status.
    counts.onboarding_flows = delete_where(
      sql, "DELETE FROM upstream_onboarding_flows WHERE expires_at < :before", forget_before);
    // Deleting an invite deletes its flows (ON DELETE CASCADE); accepted ones stay as history.
    counts.upstream_invites = delete_where(
      sql, "DELETE FROM upstream_invites WHERE status <> 'accepted' AND expires_at < :before",
      forget_before);
    work.commit();
    return counts;
  });
}

} // namespace cxp::persistence
