#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::domain {

/// The filters of `GET /admin/api/request-logs`, as the query string gave them (unchecked).
struct request_log_query {
  std::optional<std::string> pool_id, api_key_id, account_id, model;
  std::optional<std::string> outcome;     ///< succeeded | failed | rejected | cancelled
  std::optional<std::string> status_code; ///< an HTTP status, 100..599
  std::optional<std::string> from, to;    ///< ISO-8601 UTC; from inclusive, to exclusive
  page_request page;
};

/// A request-log row as the admin API shows it: metadata, tokens and cost (micro-USD and the
/// pricing snapshot), never a body or a secret; the client address as stored. With its
/// attempts when `with_attempts`.
nlohmann::json to_json(const persistence::request_log_row& row, bool with_attempts);

/// Reads the request log for operators: owners see every row, instance admins only the rows of
/// their pools (a row of another pool, or of none, is `errc::not_found` to them). Synchronous:
/// blocks on the database.
class request_log_service {
public:
  explicit request_log_service(service_context& context) : context_(context) {}

  /// `{"items": [...], "next_cursor": ...}`, newest first (occurred_at, then id). A bad filter
  /// value, limit or cursor is `errc::validation_failed` naming each bad parameter.
  caf::expected<nlohmann::json> list(const principal& who, const request_log_query& query);

  /// One row with `attempts` (in order), or `errc::not_found`.
  caf::expected<nlohmann::json> get(const principal& who, const std::string& id);

private:
  service_context& context_;
};

} // namespace cxp::domain
