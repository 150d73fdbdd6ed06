#include "persistence/routing/routing_repository.hpp"

#include <map>

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

constexpr auto quota_window_table = make_column_table(
  col<&quota_window_row::account_id>("account_id"),
  col<&quota_window_row::window_kind>("window_kind"),
  col<&quota_window_row::window_minutes>("window_minutes"),
  col<&quota_window_row::used_percent>("used_percent"),
  col<&quota_window_row::reset_at>("reset_at"), col<&quota_window_row::source>("source"),
  col<&quota_window_row::observed_at>("observed_at"), col<&quota_window_row::limit_id>("limit_id"),
  col<&quota_window_row::limit_name>("limit_name"));

} // namespace

caf::expected<std::vector<routing_pool_row>> routing_repository::pools() {
  return db_.run([](soci::session& sql) {
    std::vector<routing_pool_row> pools;
    std::map<std::string, size_t> index;
    soci::rowset<soci::row> pool_rows =
      sql.prepare << "SELECT id, status, routing_strategy, ring_size, sticky_sessions FROM pools "
                     "ORDER BY id";
    for (const auto& row : pool_rows) {
      row_reader r{row};
      index[r.text(0)] = pools.size();
      pools.push_back(
        {r.text(0), r.text(1), r.text(2), static_cast<int32_t>(r.int64(3)), r.flag(4), {}});
    }
    soci::rowset<soci::row> assignments =
      sql.prepare << "SELECT pool_id, account_id FROM pool_accounts ORDER BY pool_id, account_id";
    for (const auto& row : assignments) {
      row_reader r{row};
      if (auto it = index.find(r.text(0)); it != index.end()) {
        pools[it->second].account_ids.push_back(r.text(1));
      }
    }
    return pools;
  });
}

caf::expected<std::vector<routing_account_row>> routing_repository::assigned_accounts() {
  return db_.run([](soci::session& sql) {
    std::vector<routing_account_row> accounts;
    soci::rowset<soci::row> rows =
      sql.prepare << "SELECT id, chatgpt_account_id, plan_type, status, updated_at "
                     "FROM upstream_accounts a WHERE EXISTS "
                     "(SELECT 1 FROM pool_accounts p WHERE p.account_id = a.id) ORDER BY id";
    for (const auto& row : rows) {
      row_reader r{row};
      accounts.push_back({r.text(0), r.text(1), r.opt_text(2), r.text(3), r.text(4)});
    }
    return accounts;
  });
}

caf::expected<void> routing_repository::record_refresh_error(const std::string& account_id,
                                                             const std::string& error_code,
                                                             const std::string& at) {
  // updated_at stays: the runtime reloads an account whose row changed, and nothing it routes on
  // changed here.
  return db_.run([&](soci::session& sql) {
    sql << "UPDATE upstream_accounts SET last_refresh_error = :code, last_refresh_error_at = :at "
           "WHERE id = :id",
      soci::use(error_code), soci::use(at), soci::use(account_id);
  });
}

caf::expected<void>
routing_repository::save_quota_windows(const std::vector<quota_window_row>& windows) {
  return db_.transact([&](unit_of_work& work) {
    prepared_insert upsert{work.session(), "account_quota_windows", quota_window_table,
                           " ON CONFLICT (account_id, limit_id, window_minutes) DO UPDATE SET "
                           "window_kind = excluded.window_kind, limit_name = excluded.limit_name, "
                           "used_percent = excluded.used_percent, reset_at = excluded.reset_at, "
                           "source = excluded.source, observed_at = excluded.observed_at "
                           // Newer evidence wins: a late flush of older windows (an account
                           // actor's) does not overwrite what a usage poll stored since.
                           "WHERE account_quota_windows.observed_at <= excluded.observed_at"};
    for (const auto& window : windows) {
      upsert.execute(window);
    }
    work.commit();
  });
}

caf::expected<std::vector<quota_window_row>>
routing_repository::quota_windows(const std::string& account_id) {
  return db_.run([&](soci::session& sql) {
    std::vector<quota_window_row> windows;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << quota_window_table.select_list()
                   << " FROM account_quota_windows WHERE account_id = :id "
                      "ORDER BY limit_id, window_minutes",
       soci::use(account_id));
    for (const auto& row : rows) {
      windows.push_back(quota_window_table.read(row));
    }
    return windows;
  });
}

caf::expected<std::vector<quota_window_row>>
routing_repository::quota_windows_since(const std::string& since) {
  return db_.run([&](soci::session& sql) {
    std::vector<quota_window_row> windows;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << quota_window_table.select_list()
                   << " FROM account_quota_windows WHERE observed_at >= :since",
       soci::use(since));
    for (const auto& row : rows) {
      windows.push_back(quota_window_table.read(row));
    }
    return windows;
  });
}

caf::expected<void>
routing_repository::replace_models(const std::string& account_id,
                                   const std::vector<account_model_row>& models) {
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    sql << "DELETE FROM account_models WHERE account_id = :id", soci::use(account_id);
    for (const auto& model : models) {
      sql << "INSERT INTO account_models (account_id, slug, document, synced_at) "
             "VALUES (:account, :slug, :document, :synced)",
        soci::use(account_id), soci::use(model.slug), soci::use(model.document),
        soci::use(model.synced_at);
    }
    work.commit();
  });
}

caf::expected<std::vector<account_model_row>>
routing_repository::models(const std::string& account_id) {
  return db_.run([&](soci::session& sql) {
    std::vector<account_model_row> models;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT account_id, slug, document, synced_at FROM account_models "
                      "WHERE account_id = :id ORDER BY slug",
       soci::use(account_id));
    for (const auto& row : rows) {
      row_reader r{row};
      models.push_back({r.text(0), r.text(1), r.text(2), r.text(3)});
    }
    return models;
  });
}

} // namespace cxp::persistence
