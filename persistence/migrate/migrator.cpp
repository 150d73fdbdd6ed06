#include "persistence/migrate/migrator.hpp"

#include <soci/soci.h>

#include "common/log.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::persistence {

namespace {

// Any fixed 64-bit number; it only has to be the same in every process of the cluster.
constexpr long long advisory_lock_key = 0x63787000'6d696772; // "cxp\0migr"

class advisory_lock {
public:
  advisory_lock(soci::session& sql, bool enabled) : sql_(sql), enabled_(enabled) {
    if (enabled_) {
      long long key = advisory_lock_key;
      sql_ << "SELECT pg_advisory_lock(:key)", soci::use(key);
    }
  }
  ~advisory_lock() {
    if (!enabled_) {
      return;
    }
    try {
      long long key = advisory_lock_key;
      sql_ << "SELECT pg_advisory_unlock(:key)", soci::use(key);
    } catch (const std::exception&) {
      // The lock dies with the connection anyway; nothing more to do on a broken one.
    }
  }
  advisory_lock(const advisory_lock&) = delete;
  advisory_lock& operator=(const advisory_lock&) = delete;

private:
  soci::session& sql_;
  bool enabled_;
};

std::optional<std::string> applied_checksum(soci::session& sql, const std::string& version) {
  std::string checksum;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT checksum FROM schema_migrations WHERE version = :version", soci::use(version),
    soci::into(checksum, indicator);
  if (!sql.got_data() || indicator == soci::i_null) {
    return std::nullopt;
  }
  return checksum;
}

} // namespace

caf::expected<migration_report> run_migrations(database& db, const std::vector<migration>& set,
                                               const clock& clock) {
  const bool postgres = db.kind() == database_kind::postgres;
  auto result = db.run([&](soci::session& sql) -> caf::expected<migration_report> {
    advisory_lock lock{sql, postgres};
    sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, name TEXT NOT "
           "NULL, "
           "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";
    migration_report report;
    for (const auto& step : set) {
      const auto checksum = sha256_hex(step.sql);
      sql << (postgres ? "BEGIN" : "BEGIN IMMEDIATE");
      try {
        if (auto existing = applied_checksum(sql, step.version)) {
          sql << "ROLLBACK";
          if (*existing != checksum) {
            return make_error(errc::migration_failed, "migration " + step.version + "_" + step.name
                                                        + " changed after it was applied");
          }
          ++report.already_applied;
          continue;
        }
        for (const auto& statement : split_statements(step.sql)) {
          sql << statement;
        }
        const auto applied_at = to_iso8601(clock.now());
        sql << "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
               "VALUES (:version, :name, :checksum, :applied_at)",
          soci::use(step.version), soci::use(step.name), soci::use(checksum), soci::use(applied_at);
        sql << "COMMIT";
        report.applied.push_back(step.version);
        log::info("migrate", "migration applied", {{"version", step.version}, {"name", step.name}});
      } catch (const std::exception& e) {
        try {
          sql << "ROLLBACK";
        } catch (const std::exception&) {
          // The connection is gone; the server rolls the transaction back itself.
        }
        return make_error(errc::migration_failed,
                          "migration " + step.version + "_" + step.name + ": " + e.what());
      }
    }
    return report;
  });
  return result;
}

} // namespace cxp::persistence
