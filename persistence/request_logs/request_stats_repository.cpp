#include "persistence/request_logs/request_stats_repository.hpp"

#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

namespace {

/// A column name from a closed list, never from input.
const char* column_of(stats_dimension dimension) {
  switch (dimension) {
  case stats_dimension::pool:
    return "pool_id";
  case stats_dimension::api_key:
    return "api_key_id";
  case stats_dimension::account:
    return "account_id";
  case stats_dimension::model:
    return "model";
  case stats_dimension::transport:
    return "transport";
  case stats_dimension::client:
    return "client";
  }
  return "pool_id";
}

} // namespace

caf::expected<std::vector<stats_row>> request_stats_repository::hourly(const std::string& from,
                                                                       const std::string& to,
                                                                       stats_dimension dimension) {
  // occurred_at is ISO-8601 text on both backends, so its first 13 characters are the hour.
  // The sums are cast because PostgreSQL's SUM of a BIGINT is a NUMERIC.
  const std::string column = column_of(dimension);
  const std::string query =
    "SELECT substr(occurred_at, 1, 13), COALESCE(pool_id, ''), COALESCE(" + column
    + ", ''), COUNT(*), "
      "CAST(SUM(CASE WHEN outcome = 'succeeded' THEN 0 ELSE 1 END) AS BIGINT), "
      "CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), "
      "CAST(COALESCE(SUM(cached_input_tokens), 0) AS BIGINT), "
      "CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), "
      "CAST(COALESCE(SUM(reasoning_tokens), 0) AS BIGINT), "
      "CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), "
      "CAST(SUM(CASE WHEN pricing_status = 'unpriced' THEN 1 ELSE 0 END) AS BIGINT) "
      "FROM request_logs WHERE occurred_at >= :from AND occurred_at < :to "
      "GROUP BY substr(occurred_at, 1, 13), COALESCE(pool_id, ''), COALESCE("
    + column + ", '') ORDER BY 1, 2, 3";
  return db_.run([&](soci::session& sql) {
    std::vector<stats_row> out;
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(from), soci::use(to));
    for (const auto& row : rows) {
      row_reader r{row};
      out.push_back({r.text(0) + ":00:00Z",
                     r.text(1),
                     r.text(2),
                     {r.int64(3), r.int64(4), r.int64(5), r.int64(6), r.int64(7), r.int64(8),
                      r.int64(9), r.int64(10)}});
    }
    return out;
  });
}

} // namespace cxp::persistence
