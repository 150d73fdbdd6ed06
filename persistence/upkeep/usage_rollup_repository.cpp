#include "persistence/upkeep/usage_rollup_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

std::optional<std::string> first_text(soci::rowset<soci::row>& rows) {
  for (const auto& row : rows) {
    return row_reader{row}.opt_text(0);
  }
  return std::nullopt;
}

} // namespace

void usage_counts::add(const usage_counts& more) {
  requests += more.requests;
  errors += more.errors;
  input_tokens += more.input_tokens;
  cached_input_tokens += more.cached_input_tokens;
  output_tokens += more.output_tokens;
  reasoning_tokens += more.reasoning_tokens;
  cost_micros += more.cost_micros;
  unpriced_requests += more.unpriced_requests;
}

caf::expected<std::optional<std::string>> usage_rollup_repository::latest_bucket() {
  return db_.run([](soci::session& sql) {
    soci::rowset<soci::row> rows = sql.prepare << "SELECT MAX(bucket_start) FROM usage_rollups";
    return first_text(rows);
  });
}

caf::expected<std::optional<std::string>>
usage_rollup_repository::next_request(const std::string& from) {
  return db_.run([&](soci::session& sql) {
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT MIN(occurred_at) FROM request_logs WHERE occurred_at >= :from",
       soci::use(from));
    return first_text(rows);
  });
}

caf::expected<int64_t> usage_rollup_repository::rebuild(const std::string& bucket_start,
                                                        const std::string& bucket_end,
                                                        const std::string& computed_at) {
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    sql << "DELETE FROM usage_rollups WHERE bucket_start = :bucket", soci::use(bucket_start);
    soci::statement insert =
      (sql.prepare
         << "INSERT INTO usage_rollups (bucket_start, pool_id, api_key_id, account_id, model, "
            "requests, errors, input_tokens, cached_input_tokens, output_tokens, "
            "reasoning_tokens, cost_micros, unpriced_requests, computed_at) "
            "SELECT :bucket, COALESCE(pool_id, ''), COALESCE(api_key_id, ''), "
            "COALESCE(account_id, ''), COALESCE(model, ''), COUNT(*), "
            "SUM(CASE WHEN outcome = 'succeeded' THEN 0 ELSE 1 END), "
            "COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cached_input_tokens), 0), "
            "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(reasoning_tokens), 0), "
            "COALESCE(SUM(cost_micros), 0), "
            "SUM(CASE WHEN pricing_status = 'unpriced' THEN 1 ELSE 0 END), :computed "
            "FROM request_logs WHERE occurred_at >= :from AND occurred_at < :to "
            "GROUP BY COALESCE(pool_id, ''), COALESCE(api_key_id, ''), "
            "COALESCE(account_id, ''), COALESCE(model, '')",
       soci::use(bucket_start), soci::use(computed_at), soci::use(bucket_start),
       soci::use(bucket_end));
    insert.execute(true);
    const auto written = static_cast<int64_t>(insert.get_affected_rows());
    work.commit();
    return written;
  });
}

caf::expected<std::vector<usage_rollup_row>>
usage_rollup_repository::list(const std::string& from, const std::string& to,
                              const std::optional<std::string>& pool_id) {
  return db_.run([&](soci::session& sql) {
    const std::string pool = pool_id.value_or("");
    const int any_pool = pool_id ? 0 : 1;
    std::vector<usage_rollup_row> rollups;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT bucket_start, pool_id, api_key_id, account_id, model, requests, "
                      "errors, input_tokens, cached_input_tokens, output_tokens, "
                      "reasoning_tokens, cost_micros, unpriced_requests FROM usage_rollups "
                      "WHERE bucket_start >= :from AND bucket_start < :to AND "
                      "(:any_pool = 1 OR pool_id = :pool) ORDER BY bucket_start, pool_id, "
                      "api_key_id, account_id, model",
       soci::use(from), soci::use(to), soci::use(any_pool), soci::use(pool));
    for (const auto& row : rows) {
      row_reader r{row};
      rollups.push_back({r.text(0),
                         r.text(1),
                         r.text(2),
                         r.text(3),
                         r.text(4),
                         {r.int64(5), r.int64(6), r.int64(7), r.int64(8), r.int64(9), r.int64(10),
                          r.int64(11), r.int64(12)}});
    }
    return rollups;
  });
}

} // namespace cxp::persistence
