#include "persistence/request_logs/request_log_repository.hpp"

#include <map>

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/filtered_query.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

int32_t attempt_count_of(const request_log_row& row) {
  return static_cast<int32_t>(row.attempts.size());
}

constexpr auto request_table = make_column_table(
  col<&request_log_row::id>("id"), col<&request_log_row::occurred_at>("occurred_at"),
  col<&request_log_row::pool_id>("pool_id"), col<&request_log_row::api_key_id>("api_key_id"),
  col<&request_log_row::account_id>("account_id"), col<&request_log_row::route>("route"),
  col<&request_log_row::transport>("transport"), col<&request_log_row::model>("model"),
  col<&request_log_row::status_code>("status_code"), col<&request_log_row::outcome>("outcome"),
  col<&request_log_row::error_code>("error_code"), derived_col<&attempt_count_of>("attempt_count"),
  col<&request_log_row::latency_ms>("latency_ms"), col<&request_log_row::ttfb_ms>("ttfb_ms"),
  col<&request_log_row::input_tokens>("input_tokens"),
  col<&request_log_row::cached_input_tokens>("cached_input_tokens"),
  col<&request_log_row::output_tokens>("output_tokens"),
  col<&request_log_row::reasoning_tokens>("reasoning_tokens"),
  col<&request_log_row::session_key_hash>("session_key_hash"),
  col<&request_log_row::client_ip>("client_ip"),
  col<&request_log_row::service_tier>("service_tier"),
  col<&request_log_row::cost_micros>("cost_micros"),
  col<&request_log_row::pricing_snapshot_id>("pricing_snapshot_id"),
  col<&request_log_row::pricing_status>("pricing_status"),
  col<&request_log_row::routing>("routing"), col<&request_log_row::client>("client"));

/// The stored attempt count follows the table's columns in every SELECT of a request row.
std::string request_select() {
  return "SELECT " + request_table.select_list() + ", attempt_count FROM request_logs";
}

request_log_row read_request(const soci::row& row) {
  auto log = request_table.read(row);
  log.attempt_count = static_cast<int32_t>(row_reader{row}.int64(request_table.size()));
  return log;
}

constexpr auto attempt_table =
  make_column_table(col<&request_attempt_row::request_id>("request_id"),
                    col<&request_attempt_row::attempt_number>("attempt_number"),
                    col<&request_attempt_row::account_id>("account_id"),
                    col<&request_attempt_row::started_at>("started_at"),
                    col<&request_attempt_row::status_code>("status_code"),
                    col<&request_attempt_row::outcome>("outcome"),
                    col<&request_attempt_row::error_code>("error_code"),
                    col<&request_attempt_row::latency_ms>("latency_ms"),
                    col<&request_attempt_row::ttfb_ms>("ttfb_ms"));

} // namespace

caf::expected<void> request_log_repository::insert_batch(const std::vector<request_log_row>& rows) {
  return db_.transact([&](unit_of_work& work) {
    prepared_insert requests{work.session(), "request_logs", request_table};
    prepared_insert attempts{work.session(), "request_attempts", attempt_table};
    for (const auto& row : rows) {
      requests.execute(row);
      for (auto attempt : row.attempts) {
        attempt.request_id = row.id;
        attempts.execute(attempt);
      }
    }
    work.commit();
  });
}

caf::expected<std::vector<request_log_row>> request_log_repository::recent(int limit) {
  return db_.run([&](soci::session& sql) {
    std::vector<request_log_row> rows;
    std::map<std::string, size_t> index;
    soci::rowset<soci::row> requests =
      (sql.prepare << request_select() << " ORDER BY occurred_at DESC, id DESC LIMIT :limit",
       soci::use(limit));
    for (const auto& row : requests) {
      auto log = read_request(row);
      index[log.id] = rows.size();
      rows.push_back(std::move(log));
    }
    soci::rowset<soci::row> attempts =
      (sql.prepare << "SELECT " << attempt_table.select_list()
                   << " FROM request_attempts WHERE request_id IN (SELECT id FROM request_logs "
                      "ORDER BY occurred_at DESC, id DESC LIMIT :limit) "
                      "ORDER BY request_id, attempt_number",
       soci::use(limit));
    for (const auto& row : attempts) {
      auto attempt = attempt_table.read(row);
      if (auto it = index.find(attempt.request_id); it != index.end()) {
        rows[it->second].attempts.push_back(std::move(attempt));
      }
    }
    return rows;
  });
}

caf::expected<std::vector<request_log_row>>
request_log_repository::list(const request_log_filter& filter) {
  return db_.run([&](soci::session& sql) {
    filtered_query query{request_select()};
    auto match = [&query](std::string_view column, const std::optional<std::string>& value) {
      if (value) {
        query.where_equal(column, *value);
      }
    };
    match("pool_id", filter.pool_id);
    match("api_key_id", filter.api_key_id);
    match("account_id", filter.account_id);
    match("model", filter.model);
    match("outcome", filter.outcome);
    if (filter.status_code) {
      // Bound as text like every filter value; the cast keeps the comparison numeric.
      query.append(" AND status_code = CAST(" + query.bind(std::to_string(*filter.status_code))
                   + " AS INTEGER)");
    }
    if (filter.from) {
      query.append(" AND occurred_at >= " + query.bind(*filter.from));
    }
    if (filter.to) {
      query.append(" AND occurred_at < " + query.bind(*filter.to));
    }
    if (filter.visible_pool_ids && !query.where_in("pool_id", *filter.visible_pool_ids)) {
      return std::vector<request_log_row>{};
    }
    if (filter.before) {
      query.where_before("occurred_at", "id", filter.before->first, filter.before->second);
    }
    query.append(" ORDER BY occurred_at DESC, id DESC LIMIT " + std::to_string(filter.limit));
    return select_rows(sql, query.sql(), query.values(), read_request);
  });
}

caf::expected<std::optional<request_log_row>> request_log_repository::find(const std::string& id) {
  return db_.run([&](soci::session& sql) -> std::optional<request_log_row> {
    soci::rowset<soci::row> requests =
      (sql.prepare << request_select() << " WHERE id = :id", soci::use(id));
    auto first = requests.begin();
    if (first == requests.end()) {
      return std::nullopt;
    }
    auto log = read_request(*first);
    soci::rowset<soci::row> attempts =
      (sql.prepare << "SELECT " << attempt_table.select_list()
                   << " FROM request_attempts WHERE request_id = :id ORDER BY attempt_number",
       soci::use(id));
    for (const auto& row : attempts) {
      log.attempts.push_back(attempt_table.read(row));
    }
    return log;
  });
}

caf::expected<key_usage_totals>
request_log_repository::usage_of_key(const std::string& api_key_id,
                                     const std::optional<std::string>& since) {
  return db_.run([&](soci::session& sql) {
    key_usage_totals totals;
    // The earliest possible time stands for "no lower bound", so one statement serves both.
    const std::string from = since.value_or("0000-01-01T00:00:00.000000Z");
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), "
                      "COALESCE(SUM(cached_input_tokens), 0), COALESCE(SUM(output_tokens), 0), "
                      "COALESCE(SUM(reasoning_tokens), 0), COALESCE(SUM(cost_micros), 0), "
                      "COALESCE(SUM(CASE WHEN pricing_status = 'priced' THEN 1 ELSE 0 END), 0), "
                      "COALESCE(SUM(CASE WHEN pricing_status = 'unpriced' THEN 1 ELSE 0 END), 0) "
                      "FROM request_logs WHERE api_key_id = :key AND occurred_at >= :since",
       soci::use(api_key_id), soci::use(from));
    for (const auto& row : rows) {
      row_reader r{row};
      totals.request_count = r.int64(0);
      totals.input_tokens = r.int64(1);
      totals.cached_input_tokens = r.int64(2);
      totals.output_tokens = r.int64(3);
      totals.reasoning_tokens = r.int64(4);
      totals.cost_micros = r.int64(5);
      totals.priced_count = r.int64(6);
      totals.unpriced_count = r.int64(7);
    }
    return totals;
  });
}

caf::expected<std::map<std::string, std::string>>
request_log_repository::account_labels(const std::vector<std::string>& account_ids) {
  return db_.run([&](soci::session& sql) {
    std::map<std::string, std::string> labels;
    filtered_query query{"SELECT id, label FROM upstream_accounts"};
    if (!query.where_in("id", account_ids)) {
      return labels;
    }
    query.append(" AND label IS NOT NULL");
    for (auto& [id, label] :
         select_rows(sql, query.sql(), query.values(), [](const soci::row& row) {
           row_reader r{row};
           return std::pair{r.text(0), r.text(1)};
         })) {
      labels.emplace(std::move(id), std::move(label));
    }
    return labels;
  });
}

} // namespace cxp::persistence
