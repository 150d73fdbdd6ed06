#include "persistence/upkeep/account_upkeep_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

namespace {

constexpr const char* routable =
  "a.status = 'active' AND EXISTS (SELECT 1 FROM pool_accounts pa WHERE pa.account_id = a.id)";

} // namespace

caf::expected<std::vector<refresh_candidate>>
account_upkeep_repository::refresh_candidates(const std::string& expiring_before,
                                              const std::string& failed_after) {
  return db_.run([&](soci::session& sql) {
    std::vector<refresh_candidate> due;
    soci::rowset<soci::row> rows =
      (sql.prepare << std::string{"SELECT a.id, a.token_generation FROM upstream_accounts a WHERE "}
                        + routable
                        + " AND a.access_token_expires_at IS NOT NULL"
                          " AND a.access_token_expires_at < :before"
                          " AND (a.last_refresh_error_at IS NULL"
                          " OR a.last_refresh_error_at <= :failed_after) ORDER BY a.id",
       soci::use(expiring_before), soci::use(failed_after));
    for (const auto& row : rows) {
      row_reader r{row};
      due.push_back({r.text(0), r.int64(1)});
    }
    return due;
  });
}

caf::expected<std::vector<std::string>>
account_upkeep_repository::stale_evidence(const std::string& observed_before) {
  return db_.run([&](soci::session& sql) {
    std::vector<std::string> stale;
    soci::rowset<soci::row> rows =
      (sql.prepare << std::string{"SELECT a.id FROM upstream_accounts a WHERE "} + routable
                        + " AND COALESCE((SELECT MAX(w.observed_at) FROM account_quota_windows w"
                          " WHERE w.account_id = a.id), '') < :before ORDER BY a.id",
       soci::use(observed_before));
    for (const auto& row : rows) {
      stale.push_back(row_reader{row}.text(0));
    }
    return stale;
  });
}

} // namespace cxp::persistence
