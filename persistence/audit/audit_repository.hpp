#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <soci/soci.h>

#include "persistence/db/database.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

/// One audit event. `details` is sanitized JSON text: never a secret, token, password or raw key.
struct audit_event_row {
  std::string id;
  std::string occurred_at;
  std::string actor_type; ///< operator | system | cli | anonymous
  std::optional<std::string> actor_id;
  std::string action; ///< e.g. "pool.create", "auth.login"
  std::optional<std::string> target_type;
  std::optional<std::string> target_id;
  std::optional<std::string> pool_id;
  std::string outcome; ///< success | failure
  std::optional<std::string> client_ip;
  std::string details = "{}";
};

struct audit_filter {
  std::optional<std::string> id;
  std::optional<std::string> outcome;
  std::optional<std::string> action;
  std::optional<std::string> actor_id;
  std::optional<std::string> pool_id;
  std::optional<std::vector<std::string>> visible_pool_ids; ///< instance_admin scope; nullopt = all
  std::optional<std::string> before_cursor; ///< "<occurred_at>|<id>" of the last row seen
  int limit = 50;
};

/// All SQL on `audit_events`.
class audit_repository {
public:
  explicit audit_repository(database& db) : db_(db) {}

  caf::expected<void> record(const audit_event_row& event);

  /// Inserts inside a caller's transaction, so an admin change and its audit commit together.
  static void record_in(soci::session& sql, const audit_event_row& event);
  static void record_in(unit_of_work& work, const audit_event_row& event) {
    record_in(work.session(), event);
  }

  /// Newest first, keyset-paginated.
  caf::expected<std::vector<audit_event_row>> list(const audit_filter& filter);

private:
  database& db_;
};

} // namespace cxp::persistence
