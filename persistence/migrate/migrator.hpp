#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "persistence/db/database.hpp"
#include "persistence/migrate/migration.hpp"

namespace cxp::persistence {

struct migration_report {
  std::vector<std::string> applied; ///< versions applied by this call, in order
  size_t already_applied = 0;
};

/// Applies the pending migrations of `set` to `db`, each in its own transaction, recording them in
/// `schema_migrations` with a checksum. Safe when several processes start at once: PostgreSQL
/// serialises runners with an advisory lock, SQLite with `BEGIN IMMEDIATE` and a re-check. Fails
/// with `errc::migration_failed` when a statement fails or an applied file has changed.
/// Blocks the calling thread.
caf::expected<migration_report> run_migrations(database& db, const std::vector<migration>& set,
                                               const clock& clock);

} // namespace cxp::persistence
