#include "persistence/upkeep/pool_catalog_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

std::vector<pool_model_row> select_models(soci::session& sql, const std::string& pool_id) {
  std::vector<pool_model_row> models;
  soci::rowset<soci::row> rows =
    (sql.prepare << "SELECT pool_id, slug, status, account_count, first_seen_at, last_seen_at, "
                    "stale_at, retired_at, synced_at FROM pool_models WHERE pool_id = :pool "
                    "ORDER BY slug",
     soci::use(pool_id));
  for (const auto& row : rows) {
    row_reader r{row};
    models.push_back({r.text(0), r.text(1), r.text(2), static_cast<int32_t>(r.int64(3)), r.text(4),
                      r.text(5), r.opt_text(6), r.opt_text(7), r.text(8)});
  }
  return models;
}

void save_model(soci::session& sql, const pool_model_row& model) {
  nullable_use<std::string> stale_at{model.stale_at};
  nullable_use<std::string> retired_at{model.retired_at};
  const int account_count = model.account_count;
  sql << "INSERT INTO pool_models (pool_id, slug, status, account_count, first_seen_at, "
         "last_seen_at, stale_at, retired_at, synced_at) VALUES (:pool, :slug, :status, :count, "
         ":first, :last, :stale, :retired, :synced) ON CONFLICT (pool_id, slug) DO UPDATE SET "
         "status = excluded.status, account_count = excluded.account_count, "
         "last_seen_at = excluded.last_seen_at, stale_at = excluded.stale_at, "
         "retired_at = excluded.retired_at, synced_at = excluded.synced_at",
    soci::use(model.pool_id), soci::use(model.slug), soci::use(model.status),
    soci::use(account_count), soci::use(model.first_seen_at), soci::use(model.last_seen_at),
    soci::use(stale_at.value, stale_at.indicator),
    soci::use(retired_at.value, retired_at.indicator), soci::use(model.synced_at);
}

/// The next state of a model the pool knew, given whether an account serves it now.
void advance(pool_model_row& model, bool served, const std::string& now,
             const std::string& retire_before, pool_catalog_change& change) {
  if (served) {
    if (model.status != "active") {
      ++change.revived;
    }
    model.status = "active";
    model.last_seen_at = now;
    model.stale_at.reset();
    model.retired_at.reset();
    return;
  }
  model.account_count = 0;
  if (model.status == "active") {
    model.status = "stale";
    model.stale_at = now;
    ++change.stale;
  } else if (model.status == "stale" && model.stale_at.value_or(now) < retire_before) {
    model.status = "retired";
    model.retired_at = now;
    ++change.retired;
  }
}

} // namespace

caf::expected<pool_catalog_change>
pool_catalog_repository::record(const std::string& pool_id,
                                const std::map<std::string, int32_t>& served,
                                const std::string& now, const std::string& retire_before) {
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    pool_catalog_change change;
    auto known = select_models(sql, pool_id);
    std::map<std::string, int32_t> unseen = served;
    for (auto& model : known) {
      const auto found = served.find(model.slug);
      const bool is_served = found != served.end();
      if (is_served) {
        model.account_count = found->second;
        unseen.erase(model.slug);
      }
      advance(model, is_served, now, retire_before, change);
      model.synced_at = now;
      save_model(sql, model);
    }
    for (const auto& [slug, accounts] : unseen) {
      save_model(sql,
                 {pool_id, slug, "active", accounts, now, now, std::nullopt, std::nullopt, now});
      ++change.added;
    }
    change.active = static_cast<int64_t>(served.size());
    work.commit();
    return change;
  });
}

caf::expected<std::vector<pool_model_row>>
pool_catalog_repository::models(const std::string& pool_id) {
  return db_.run([&](soci::session& sql) { return select_models(sql, pool_id); });
}

} // namespace cxp::persistence
