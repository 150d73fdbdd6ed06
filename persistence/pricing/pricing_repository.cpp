#include "persistence/pricing/pricing_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

constexpr auto snapshot_table = make_column_table(
  col<&pricing_snapshot_row::id>("id"), col<&pricing_snapshot_row::price_version>("price_version"),
  col<&pricing_snapshot_row::effective_at>("effective_at"),
  col<&pricing_snapshot_row::source_url>("source_url"),
  col<&pricing_snapshot_row::imported_at>("imported_at"),
  col<&pricing_snapshot_row::model_count>("model_count"));

constexpr auto price_table = make_column_table(
  col<&model_price_row::snapshot_id>("snapshot_id"), col<&model_price_row::model>("model"),
  col<&model_price_row::service_tier>("service_tier"),
  col<&model_price_row::price_bucket>("price_bucket"),
  col<&model_price_row::available>("available"),
  col<model_price_row, &token_rates::input>("input_micros_per_mtok"),
  col<model_price_row, &token_rates::cached_input>("cached_input_micros_per_mtok"),
  col<model_price_row, &token_rates::cache_write>("cache_write_micros_per_mtok"),
  col<model_price_row, &token_rates::output>("output_micros_per_mtok"),
  col<model_price_row, &token_rates::reasoning>("reasoning_micros_per_mtok"));

std::optional<pricing_snapshot_row> first_snapshot(soci::rowset<soci::row>& rows) {
  auto first = rows.begin();
  if (first == rows.end()) {
    return std::nullopt;
  }
  return snapshot_table.read(*first);
}

} // namespace

caf::expected<void> pricing_repository::insert(const pricing_snapshot_row& snapshot,
                                               const std::vector<model_price_row>& prices) {
  return db_.transact([&](unit_of_work& work) {
    insert_row(work.session(), "pricing_snapshots", snapshot_table, snapshot);
    prepared_insert insert_price{work.session(), "pricing_model_prices", price_table};
    for (auto price : prices) {
      price.snapshot_id = snapshot.id;
      insert_price.execute(price);
    }
    work.commit();
  });
}

caf::expected<std::optional<pricing_snapshot_row>>
pricing_repository::find_by_version(const std::string& version) {
  return db_.run([&](soci::session& sql) {
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << snapshot_table.select_list()
                   << " FROM pricing_snapshots WHERE price_version = :version",
       soci::use(version));
    return first_snapshot(rows);
  });
}

caf::expected<std::optional<pricing_snapshot_row>> pricing_repository::current() {
  return db_.run([&](soci::session& sql) {
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << snapshot_table.select_list()
                   << " FROM pricing_snapshots"
                      " ORDER BY effective_at DESC, imported_at DESC, id DESC LIMIT 1");
    return first_snapshot(rows);
  });
}

caf::expected<std::vector<model_price_row>>
pricing_repository::prices_of(const std::string& snapshot_id) {
  return db_.run([&](soci::session& sql) {
    std::vector<model_price_row> out;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << price_table.select_list()
                   << " FROM pricing_model_prices WHERE snapshot_id = :id"
                      " ORDER BY model, service_tier, price_bucket",
       soci::use(snapshot_id));
    for (const auto& row : rows) {
      out.push_back(price_table.read(row));
    }
    return out;
  });
}

caf::expected<std::vector<pricing_snapshot_row>> pricing_repository::list() {
  return db_.run([&](soci::session& sql) {
    std::vector<pricing_snapshot_row> out;
    soci::rowset<soci::row> rows =
      (sql.prepare
       << "SELECT " << snapshot_table.select_list()
       << " FROM pricing_snapshots ORDER BY effective_at DESC, imported_at DESC, id DESC");
    for (const auto& row : rows) {
      out.push_back(snapshot_table.read(row));
    }
    return out;
  });
}

} // namespace cxp::persistence
