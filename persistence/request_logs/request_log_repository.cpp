#include "persistence/request_logs/request_log_repository.hpp"

#include <map>

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

/// The request insert, prepared once per batch: the statement is bound to these members, which
/// are reassigned for each row.
struct request_insert {
  std::string id, occurred_at, route, transport, outcome;
  int32_t status_code = 0, attempt_count = 0;
  nullable_use<std::string> pool, key, account, model, error, session, ip;
  nullable_use<int64_t> latency, ttfb, input, cached, output, reasoning;
  soci::statement statement;

  explicit request_insert(soci::session& sql)
      : statement(
        (sql.prepare << "INSERT INTO request_logs (id, occurred_at, pool_id, api_key_id, "
                        "account_id, route, transport, model, status_code, outcome, error_code, "
                        "attempt_count, latency_ms, ttfb_ms, input_tokens, cached_input_tokens, "
                        "output_tokens, reasoning_tokens, session_key_hash, client_ip) VALUES "
                        "(:id, :at, :pool, :key, :account, :route, :transport, :model, :status, "
                        ":outcome, :error, :attempts, :latency, :ttfb, :input, :cached, "
                        ":output, :reasoning, :session, :ip)",
         soci::use(id), soci::use(occurred_at), soci::use(pool.value, pool.indicator),
         soci::use(key.value, key.indicator), soci::use(account.value, account.indicator),
         soci::use(route), soci::use(transport), soci::use(model.value, model.indicator),
         soci::use(status_code), soci::use(outcome), soci::use(error.value, error.indicator),
         soci::use(attempt_count), soci::use(latency.value, latency.indicator),
         soci::use(ttfb.value, ttfb.indicator), soci::use(input.value, input.indicator),
         soci::use(cached.value, cached.indicator), soci::use(output.value, output.indicator),
         soci::use(reasoning.value, reasoning.indicator),
         soci::use(session.value, session.indicator), soci::use(ip.value, ip.indicator))) {}

  void execute(const request_log_row& row) {
    id = row.id;
    occurred_at = row.occurred_at;
    route = row.route;
    transport = row.transport;
    outcome = row.outcome;
    status_code = row.status_code;
    attempt_count = static_cast<int32_t>(row.attempts.size());
    pool = nullable_use<std::string>{row.pool_id};
    key = nullable_use<std::string>{row.api_key_id};
    account = nullable_use<std::string>{row.account_id};
    model = nullable_use<std::string>{row.model};
    error = nullable_use<std::string>{row.error_code};
    session = nullable_use<std::string>{row.session_key_hash};
    ip = nullable_use<std::string>{row.client_ip};
    latency = nullable_use<int64_t>{row.latency_ms};
    ttfb = nullable_use<int64_t>{row.ttfb_ms};
    input = nullable_use<int64_t>{row.input_tokens};
    cached = nullable_use<int64_t>{row.cached_input_tokens};
    output = nullable_use<int64_t>{row.output_tokens};
    reasoning = nullable_use<int64_t>{row.reasoning_tokens};
    statement.execute(true);
  }
};

/// The attempt insert, prepared once per batch like `request_insert`.
struct attempt_insert {
  std::string id, request_id, started_at, outcome;
  int32_t attempt_number = 0;
  nullable_use<std::string> account, error;
  nullable_use<int32_t> status;
  nullable_use<int64_t> latency, ttfb;
  soci::statement statement;

  explicit attempt_insert(soci::session& sql)
      : statement(
        (sql.prepare << "INSERT INTO request_attempts (id, request_id, attempt_number, "
                        "account_id, started_at, status_code, outcome, error_code, latency_ms, "
                        "ttfb_ms) VALUES (:id, :request, :number, :account, :started, :status, "
                        ":outcome, :error, :latency, :ttfb)",
         soci::use(id), soci::use(request_id), soci::use(attempt_number),
         soci::use(account.value, account.indicator), soci::use(started_at),
         soci::use(status.value, status.indicator), soci::use(outcome),
         soci::use(error.value, error.indicator), soci::use(latency.value, latency.indicator),
         soci::use(ttfb.value, ttfb.indicator))) {}

  void execute(const std::string& request, const request_attempt_row& attempt) {
    id = attempt.id;
    request_id = request;
    attempt_number = attempt.attempt_number;
    started_at = attempt.started_at;
    outcome = attempt.outcome;
    account = nullable_use<std::string>{attempt.account_id};
    status = nullable_use<int32_t>{attempt.status_code};
    error = nullable_use<std::string>{attempt.error_code};
    latency = nullable_use<int64_t>{attempt.latency_ms};
    ttfb = nullable_use<int64_t>{attempt.ttfb_ms};
    statement.execute(true);
  }
};

std::optional<int32_t> narrow(std::optional<int64_t> value) {
  if (!value) {
    return std::nullopt;
  }
  return static_cast<int32_t>(*value);
}

} // namespace

caf::expected<void> request_log_repository::insert_batch(const std::vector<request_log_row>& rows) {
  return db_.transact([&](unit_of_work& work) {
    request_insert requests{work.session()};
    attempt_insert attempts{work.session()};
    for (const auto& row : rows) {
      requests.execute(row);
      for (const auto& attempt : row.attempts) {
        attempts.execute(row.id, attempt);
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
      (sql.prepare << "SELECT id, occurred_at, pool_id, api_key_id, account_id, route, transport, "
                      "model, status_code, outcome, error_code, latency_ms, ttfb_ms, "
                      "input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, "
                      "session_key_hash, client_ip FROM request_logs "
                      "ORDER BY occurred_at DESC, id DESC LIMIT :limit",
       soci::use(limit));
    for (const auto& row : requests) {
      row_reader r{row};
      request_log_row log;
      log.id = r.text(0);
      log.occurred_at = r.text(1);
      log.pool_id = r.opt_text(2);
      log.api_key_id = r.opt_text(3);
      log.account_id = r.opt_text(4);
      log.route = r.text(5);
      log.transport = r.text(6);
      log.model = r.opt_text(7);
      log.status_code = static_cast<int32_t>(r.int64(8));
      log.outcome = r.text(9);
      log.error_code = r.opt_text(10);
      log.latency_ms = r.opt_int64(11);
      log.ttfb_ms = r.opt_int64(12);
      log.input_tokens = r.opt_int64(13);
      log.cached_input_tokens = r.opt_int64(14);
      log.output_tokens = r.opt_int64(15);
      log.reasoning_tokens = r.opt_int64(16);
      log.session_key_hash = r.opt_text(17);
      log.client_ip = r.opt_text(18);
      index[log.id] = rows.size();
      rows.push_back(std::move(log));
    }
    soci::rowset<soci::row> attempts =
      (sql.prepare << "SELECT request_id, id, attempt_number, account_id, started_at, status_code, "
                      "outcome, error_code, latency_ms, ttfb_ms FROM request_attempts "
                      "WHERE request_id IN (SELECT id FROM request_logs "
                      "ORDER BY occurred_at DESC, id DESC LIMIT :limit) "
                      "ORDER BY request_id, attempt_number",
       soci::use(limit));
    for (const auto& row : attempts) {
      row_reader r{row};
      auto it = index.find(r.text(0));
      if (it == index.end()) {
        continue;
      }
      rows[it->second].attempts.push_back(
        {r.text(1), static_cast<int32_t>(r.int64(2)), r.opt_text(3), r.text(4),
         narrow(r.opt_int64(5)), r.text(6), r.opt_text(7), r.opt_int64(8), r.opt_int64(9)});
    }
    return rows;
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
                      "COALESCE(SUM(reasoning_tokens), 0) FROM request_logs "
                      "WHERE api_key_id = :key AND occurred_at >= :since",
       soci::use(api_key_id), soci::use(from));
    for (const auto& row : rows) {
      row_reader r{row};
      totals.request_count = r.int64(0);
      totals.input_tokens = r.int64(1);
      totals.cached_input_tokens = r.int64(2);
      totals.output_tokens = r.int64(3);
      totals.reasoning_tokens = r.int64(4);
    }
    return totals;
  });
}

} // namespace cxp::persistence
