#include "persistence/mcp/mcp_token_repository.hpp"

#include <soci/soci.h>

#include "common/errc.hpp"
#include "persistence/db/column_table.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

constexpr auto token_table = make_column_table(
  col<&mcp_token_row::id>("id"), col<&mcp_token_row::operator_id>("operator_id"),
  col<&mcp_token_row::name>("name"), col<&mcp_token_row::token_prefix>("token_prefix"),
  col<&mcp_token_row::token_hash>("token_hash"), col<&mcp_token_row::status>("status"),
  col<&mcp_token_row::expires_at>("expires_at"), col<&mcp_token_row::created_at>("created_at"),
  col<&mcp_token_row::revoked_at>("revoked_at"), col<&mcp_token_row::revoked_by>("revoked_by"));
const std::string token_columns = token_table.select_list();

caf::expected<std::optional<mcp_token_row>> first_token(database& db, const std::string& column,
                                                        const std::string& value) {
  return db.run([&](soci::session& sql) {
    auto rows =
      select_rows(sql, "SELECT " + token_columns + " FROM mcp_tokens WHERE " + column + " = :p0",
                  {value}, [](const soci::row& row) { return token_table.read(row); });
    return rows.empty() ? std::nullopt : std::optional<mcp_token_row>{std::move(rows.front())};
  });
}

} // namespace

caf::expected<void> mcp_token_repository::insert(const mcp_token_row& row,
                                                 const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work transaction{sql};
    insert_row(sql, "mcp_tokens", token_table, row);
    audit_repository::record_in(sql, audit);
    transaction.commit();
  });
}

caf::expected<std::optional<mcp_token_row>>
mcp_token_repository::find_by_prefix(const std::string& prefix) {
  return first_token(db_, "token_prefix", prefix);
}

caf::expected<std::optional<mcp_token_row>> mcp_token_repository::find(const std::string& id) {
  return first_token(db_, "id", id);
}

caf::expected<std::vector<mcp_token_row>>
mcp_token_repository::list(const std::optional<std::string>& operator_id, int limit) {
  return db_.run([&](soci::session& sql) {
    std::string query = "SELECT " + token_columns + " FROM mcp_tokens";
    std::vector<std::string> values;
    if (operator_id) {
      query += " WHERE operator_id = :p0";
      values.push_back(*operator_id);
    }
    query += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(limit);
    return select_rows(sql, query, values,
                       [](const soci::row& row) { return token_table.read(row); });
  });
}

caf::expected<void> mcp_token_repository::revoke(const std::string& id,
                                                 const std::string& revoked_by,
                                                 const std::string& now,
                                                 const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) -> caf::expected<void> {
    unit_of_work transaction{sql};
    const auto changed =
      execute_bound(sql,
                    "UPDATE mcp_tokens SET status = 'revoked', revoked_at = :p0, revoked_by = :p1 "
                    "WHERE id = :p2 AND status = 'active'",
                    {now, revoked_by, id});
    if (changed == 0) {
      return make_error(errc::not_found, "mcp token not found or already revoked");
    }
    audit_repository::record_in(sql, audit);
    transaction.commit();
    return {};
  });
}

caf::expected<bool> mcp_token_repository::access_enabled(const std::string& operator_id) {
  return db_.run([&](soci::session& sql) {
    auto rows =
      select_rows(sql, "SELECT enabled FROM operator_mcp_access WHERE operator_id = :p0",
                  {operator_id}, [](const soci::row& row) { return row_reader{row}.flag(0); });
    return !rows.empty() && rows.front();
  });
}

caf::expected<void> mcp_token_repository::set_access(const std::string& operator_id, bool enabled,
                                                     const std::string& now,
                                                     const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work transaction{sql};
    execute_bound(sql,
                  "INSERT INTO operator_mcp_access (operator_id, enabled, updated_at) "
                  "VALUES (:p0, "
                    + std::string{enabled ? "1" : "0"}
                    + ", :p1) ON CONFLICT (operator_id) DO UPDATE SET enabled = excluded.enabled, "
                      "updated_at = excluded.updated_at",
                  {operator_id, now});
    audit_repository::record_in(sql, audit);
    transaction.commit();
  });
}

} // namespace cxp::persistence
