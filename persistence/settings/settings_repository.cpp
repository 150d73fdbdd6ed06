#include "persistence/settings/settings_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

caf::expected<std::map<std::string, setting_row>> settings_repository::load_all() {
  return db_.run([](soci::session& sql) {
    std::map<std::string, setting_row> rows;
    soci::rowset<soci::row> result =
      sql.prepare << "SELECT key, value, updated_by, updated_at FROM instance_settings";
    for (const auto& row : result) {
      row_reader r{row};
      setting_row item{r.text(0), r.text(1), r.opt_text(2), r.text(3)};
      rows.emplace(item.key, std::move(item));
    }
    return rows;
  });
}

caf::expected<std::string> settings_repository::revision() {
  return db_.run([](soci::session& sql) {
    soci::rowset<soci::row> result = sql.prepare
                                     << "SELECT COUNT(*), MAX(updated_at) FROM instance_settings";
    for (const auto& row : result) {
      row_reader r{row};
      return std::to_string(r.int64(0)) + "@" + r.text(1);
    }
    return std::string{};
  });
}

void settings_repository::upsert_in(unit_of_work& work, const setting_row& row) {
  auto& sql = work.session();
  nullable_use<std::string> updated_by{row.updated_by};
  sql
    << "INSERT INTO instance_settings (key, value, updated_by, updated_at) "
       "VALUES (:key, :value, :updated_by, :updated_at) "
       "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, "
       "updated_at = excluded.updated_at",
    soci::use(row.key), soci::use(row.value_json),
    soci::use(updated_by.value, updated_by.indicator), soci::use(row.updated_at);
}

void settings_repository::remove_in(unit_of_work& work, const std::string& key) {
  auto& sql = work.session();
  sql << "DELETE FROM instance_settings WHERE key = :key", soci::use(key);
}

caf::expected<void> settings_repository::upsert(const setting_row& row) {
  return db_.transact([&](unit_of_work& work) {
    upsert_in(work, row);
    work.commit();
  });
}

caf::expected<void> settings_repository::remove(const std::string& key) {
  return db_.transact([&](unit_of_work& work) {
    remove_in(work, key);
    work.commit();
  });
}

} // namespace cxp::persistence
