#include "persistence/pools/pool_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/filtered_query.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"
#include "persistence/db/unit_of_work.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::persistence {

namespace {

constexpr auto pool_table = make_column_table(
  col<&pool_row::id>("id"), col<&pool_row::slug>("slug"), col<&pool_row::name>("name"),
  col<&pool_row::status>("status"), col<&pool_row::routing_strategy>("routing_strategy"),
  col<&pool_row::ring_size>("ring_size"), col<&pool_row::sticky_sessions>("sticky_sessions"),
  col<&pool_row::prompt_cache_affinity>("prompt_cache_affinity"),
  col<&pool_row::v1_compatibility_enabled>("v1_compatibility_enabled"),
  col<&pool_row::allow_image_generation>("allow_image_generation"),
  col<&pool_row::created_by>("created_by"), col<&pool_row::created_at>("created_at"),
  col<&pool_row::updated_at>("updated_at"), col<&pool_row::disabled_at>("disabled_at"));
/// The column list every query of this file selects, built once from the table.
const std::string pool_columns = pool_table.select_list();

pool_row from_row(const soci::row& row) {
  return pool_table.read(row);
}

/// The integers SOCI binds for a pool's ring size and flags (it has no bool binding).
struct pool_numbers {
  explicit pool_numbers(const pool_row& row)
      : ring_size(row.ring_size),
        sticky(row.sticky_sessions ? 1 : 0),
        affinity(row.prompt_cache_affinity ? 1 : 0),
        v1(row.v1_compatibility_enabled ? 1 : 0),
        images(row.allow_image_generation ? 1 : 0) {}
  int ring_size, sticky, affinity, v1, images;
};

} // namespace

caf::expected<void> pool_repository::insert(const pool_row& row, const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work transaction{sql};
    insert_row(sql, "pools", pool_table, row);
    audit_repository::record_in(sql, audit);
    transaction.commit();
  });
}

caf::expected<pool_row> pool_repository::get(const std::string& id) {
  return db_.run([&](soci::session& sql) -> caf::expected<pool_row> {
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << pool_columns << " FROM pools WHERE id = :id", soci::use(id));
    for (const auto& row : rows) {
      return from_row(row);
    }
    return make_error(errc::not_found, "pool not found");
  });
}

caf::expected<std::vector<pool_row>> pool_repository::list(const pool_list_filter& filter) {
  return db_.run([&](soci::session& sql) {
    filtered_query query{"SELECT " + pool_columns + " FROM pools"};
    if (filter.status) {
      query.where_equal("status", *filter.status);
    }
    if (filter.search) {
      query.where_contains({"lower(name)", "lower(slug)"}, *filter.search);
    }
    if (filter.visible_pool_ids && !query.where_in("id", *filter.visible_pool_ids)) {
      return std::vector<pool_row>{};
    }
    if (filter.after_created_at && filter.after_id) {
      query.where_after("created_at", "id", *filter.after_created_at, *filter.after_id);
    }
    query.append(" ORDER BY created_at, id LIMIT " + std::to_string(filter.limit));
    return select_rows(sql, query.sql(), query.values(), from_row);
  });
}

caf::expected<void> pool_repository::update(const pool_row& row, const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) -> caf::expected<void> {
    unit_of_work transaction{sql};
    nullable_use<std::string> disabled_at{row.disabled_at};
    const pool_numbers numbers{row};
    soci::statement statement =
      (sql.prepare
         << "UPDATE pools SET slug = :slug, name = :name, status = :status, "
            "routing_strategy = :strategy, ring_size = :ring_size, sticky_sessions = :sticky, "
            "prompt_cache_affinity = :affinity, v1_compatibility_enabled = :v1, "
            "allow_image_generation = :images, updated_at = :updated_at, "
            "disabled_at = :disabled_at WHERE id = :id",
       soci::use(row.slug), soci::use(row.name), soci::use(row.status),
       soci::use(row.routing_strategy), soci::use(numbers.ring_size), soci::use(numbers.sticky),
       soci::use(numbers.affinity), soci::use(numbers.v1), soci::use(numbers.images),
       soci::use(row.updated_at), soci::use(disabled_at.value, disabled_at.indicator),
       soci::use(row.id));
    statement.execute(true);
    if (statement.get_affected_rows() == 0) {
      return make_error(errc::not_found, "pool not found");
    }
    audit_repository::record_in(sql, audit);
    transaction.commit();
    return {};
  });
}

caf::expected<std::vector<std::string>>
pool_repository::assigned_pool_ids(const std::string& operator_id) {
  return db_.run(
    [&](soci::session& sql) { return operator_repository::pool_ids_in(sql, operator_id); });
}

} // namespace cxp::persistence
