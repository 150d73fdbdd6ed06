#include "persistence/api_keys/api_key_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/filtered_query.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

constexpr auto key_table = make_column_table(
  col<&api_key_row::id>("id"), col<&api_key_row::pool_id>("pool_id"),
  col<&api_key_row::display_name>("display_name"), col<&api_key_row::key_prefix>("key_prefix"),
  col<&api_key_row::key_hash>("key_hash"), col<&api_key_row::status>("status"),
  col<&api_key_row::revocation_epoch>("revocation_epoch"),
  col<&api_key_row::expires_at>("expires_at"), col<&api_key_row::last_used_at>("last_used_at"),
  col<&api_key_row::allowed_models>("allowed_models"),
  col<api_key_row, &api_key_row::enforced_model>("enforced_model"),
  col<api_key_row, &api_key_row::max_reasoning_effort>("max_reasoning_effort"),
  col<api_key_row, &api_key_row::enforced_reasoning_effort>("enforced_reasoning_effort"),
  col<api_key_row, &api_key_row::max_requests_per_minute>("max_requests_per_minute"),
  col<api_key_row, &api_key_row::max_tokens_per_day>("max_tokens_per_day"),
  col<api_key_row, &api_key_row::max_tokens_per_week>("max_tokens_per_week"),
  col<&api_key_row::created_by>("created_by"), col<&api_key_row::created_at>("created_at"),
  col<&api_key_row::updated_at>("updated_at"), col<&api_key_row::revoked_at>("revoked_at"));
/// The column list every query of this file selects, built once from the table.
const std::string key_columns = key_table.select_list("k");

api_key_row from_row(const soci::row& row) {
  return key_table.read(row);
}

std::optional<long long> widen(const std::optional<int64_t>& value) {
  if (!value) {
    return std::nullopt;
  }
  return static_cast<long long>(*value);
}

std::optional<int> widen(const std::optional<int32_t>& value) {
  if (!value) {
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

/// The nullable policy columns, bound in the order of `policy_placeholders`.
struct policy_binds {
  nullable_use<std::string> expires_at;
  nullable_use<std::string> allowed_models;
  nullable_use<std::string> enforced_model;
  nullable_use<std::string> max_effort;
  nullable_use<std::string> enforced_effort;
  nullable_use<int> rpm;
  nullable_use<long long> per_day;
  nullable_use<long long> per_week;

  explicit policy_binds(const api_key_row& row)
      : expires_at(row.expires_at),
        allowed_models(row.allowed_models),
        enforced_model(row.enforced_model),
        max_effort(row.max_reasoning_effort),
        enforced_effort(row.enforced_reasoning_effort),
        rpm(widen(row.max_requests_per_minute)),
        per_day(widen(row.max_tokens_per_day)),
        per_week(widen(row.max_tokens_per_week)) {}
};

caf::error key_not_found() {
  return make_error(errc::not_found, "api key not found");
}

/// Runs the UPDATE `statement` of one key; the audit event is recorded and the transaction
/// committed only when it touched a row (no row: the key does not exist).
caf::expected<void> commit_key_change(soci::session& sql, unit_of_work& transaction,
                                      soci::statement& statement, const audit_event_row& audit) {
  statement.execute(true);
  if (statement.get_affected_rows() == 0) {
    return key_not_found();
  }
  audit_repository::record_in(sql, audit);
  transaction.commit();
  return {};
}

} // namespace

caf::expected<void> api_key_repository::insert(const api_key_row& row,
                                               const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work transaction{sql};
    insert_row(sql, "api_keys", key_table, row);
    audit_repository::record_in(sql, audit);
    transaction.commit();
  });
}

caf::expected<std::optional<api_key_credential>>
api_key_repository::find_by_prefix(const std::string& prefix) {
  return db_.run([&](soci::session& sql) {
    std::optional<api_key_credential> found;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << key_columns
                   << ", p.status FROM api_keys k JOIN pools p ON p.id = k.pool_id "
                      "WHERE k.key_prefix = :prefix",
       soci::use(prefix));
    for (const auto& row : rows) {
      found = api_key_credential{from_row(row), row_reader{row}.text(key_table.size())};
    }
    return found;
  });
}

caf::expected<api_key_row> api_key_repository::get(const std::string& id) {
  return db_.run([&](soci::session& sql) -> caf::expected<api_key_row> {
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << key_columns << " FROM api_keys k WHERE k.id = :id",
       soci::use(id));
    for (const auto& row : rows) {
      return from_row(row);
    }
    return key_not_found();
  });
}

caf::expected<std::vector<api_key_row>>
api_key_repository::list(const api_key_list_filter& filter) {
  return db_.run([&](soci::session& sql) {
    filtered_query query{"SELECT " + key_columns + " FROM api_keys k"};
    if (filter.pool_id) {
      query.where_equal("k.pool_id", *filter.pool_id);
    }
    if (filter.status) {
      query.where_equal("k.status", *filter.status);
    }
    if (filter.visible_pool_ids && !query.where_in("k.pool_id", *filter.visible_pool_ids)) {
      return std::vector<api_key_row>{};
    }
    if (filter.after_created_at && filter.after_id) {
      query.where_after("k.created_at", "k.id", *filter.after_created_at, *filter.after_id);
    }
    query.append(" ORDER BY k.created_at, k.id LIMIT " + std::to_string(filter.limit));
    return select_rows(sql, query.sql(), query.values(), from_row);
  });
}

caf::expected<void> api_key_repository::update_policy(const api_key_row& row,
                                                      const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) -> caf::expected<void> {
    unit_of_work transaction{sql};
    policy_binds policy{row};
    soci::statement statement =
      (sql.prepare
         << "UPDATE api_keys SET display_name = :display_name, expires_at = :expires_at, "
            "allowed_models = :allowed_models, enforced_model = :enforced_model, "
            "max_reasoning_effort = :max_effort, enforced_reasoning_effort = :enforced_effort, "
            "max_requests_per_minute = :rpm, max_tokens_per_day = :per_day, "
            "max_tokens_per_week = :per_week, updated_at = :updated_at WHERE id = :id",
       soci::use(row.display_name), soci::use(policy.expires_at.value, policy.expires_at.indicator),
       soci::use(policy.allowed_models.value, policy.allowed_models.indicator),
       soci::use(policy.enforced_model.value, policy.enforced_model.indicator),
       soci::use(policy.max_effort.value, policy.max_effort.indicator),
       soci::use(policy.enforced_effort.value, policy.enforced_effort.indicator),
       soci::use(policy.rpm.value, policy.rpm.indicator),
       soci::use(policy.per_day.value, policy.per_day.indicator),
       soci::use(policy.per_week.value, policy.per_week.indicator), soci::use(row.updated_at),
       soci::use(row.id));
    return commit_key_change(sql, transaction, statement, audit);
  });
}

caf::expected<void> api_key_repository::set_status(const std::string& id, const std::string& status,
                                                   bool bump_epoch,
                                                   const std::optional<std::string>& revoked_at,
                                                   const std::string& updated_at,
                                                   const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) -> caf::expected<void> {
    unit_of_work transaction{sql};
    nullable_use<std::string> revoked{revoked_at};
    const int bump = bump_epoch ? 1 : 0;
    soci::statement statement =
      (sql.prepare
         << "UPDATE api_keys SET status = :status, revocation_epoch = revocation_epoch + :bump, "
            "revoked_at = :revoked_at, updated_at = :updated_at WHERE id = :id",
       soci::use(status), soci::use(bump), soci::use(revoked.value, revoked.indicator),
       soci::use(updated_at), soci::use(id));
    return commit_key_change(sql, transaction, statement, audit);
  });
}

caf::expected<void> api_key_repository::rotate(const std::string& id, const std::string& key_prefix,
                                               const std::string& key_hash,
                                               const std::string& updated_at,
                                               const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) -> caf::expected<void> {
    unit_of_work transaction{sql};
    soci::statement statement =
      (sql.prepare
         << "UPDATE api_keys SET key_prefix = :prefix, key_hash = :hash, "
            "revocation_epoch = revocation_epoch + 1, updated_at = :updated_at WHERE id = :id",
       soci::use(key_prefix), soci::use(key_hash), soci::use(updated_at), soci::use(id));
    return commit_key_change(sql, transaction, statement, audit);
  });
}

caf::expected<bool> api_key_repository::touch_last_used(const std::string& id, time_point at) {
  const auto stamp = to_iso8601(at);
  const auto threshold = to_iso8601(at - touch_debounce);
  return db_.run([&](soci::session& sql) {
    soci::statement statement =
      (sql.prepare << "UPDATE api_keys SET last_used_at = :at WHERE id = :id "
                      "AND (last_used_at IS NULL OR last_used_at <= :threshold)",
       soci::use(stamp), soci::use(id), soci::use(threshold));
    statement.execute(true);
    return statement.get_affected_rows() > 0;
  });
}

} // namespace cxp::persistence
