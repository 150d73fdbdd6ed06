#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "persistence/api_keys/api_key_limits.hpp"
#include "persistence/audit/audit_repository.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One row of `api_keys`, its limits included. `key_hash` is the keyed HMAC of the full raw key;
/// the raw key itself is never stored anywhere.
struct api_key_row : api_key_limits {
  std::string id;
  std::string pool_id;
  std::string display_name;
  std::string key_prefix; ///< "sk-cxp-<12 hex>", unique
  std::string key_hash;
  std::string status = "active"; ///< active | paused | revoked
  int32_t revocation_epoch = 0;
  std::optional<std::string> expires_at;
  std::optional<std::string> last_used_at;
  std::optional<std::string> allowed_models; ///< JSON array text; NULL = every model
  std::optional<std::string> created_by;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> revoked_at;
};

/// What the request path needs to authenticate a key: the row and the status of its pool.
struct api_key_credential {
  api_key_row key;
  std::string pool_status;
};

/// Filters for `api_key_repository::list`; every member that is set narrows the result.
struct api_key_list_filter {
  std::optional<std::string> pool_id;
  std::optional<std::string> status;
  /// instance_admin scope: only keys of these pools; nullopt = all, empty = none.
  std::optional<std::vector<std::string>> visible_pool_ids;
  /// Keyset position: rows strictly after (created_at, id) in ascending order.
  std::optional<std::string> after_created_at;
  std::optional<std::string> after_id;
  int limit = 50;
};

/// All SQL on `api_keys`. Synchronous; called from db workers, the CLI and tests. Mutations take
/// the audit event to write in the same transaction.
class api_key_repository {
public:
  /// `last_used_at` is written at most once per this interval per key.
  static constexpr std::chrono::seconds touch_debounce{60};

  explicit api_key_repository(database& db) : db_(db) {}

  /// Inserts `row` and `audit`; a duplicate prefix fails with `errc::conflict`.
  caf::expected<void> insert(const api_key_row& row, const audit_event_row& audit);

  /// The key whose stored prefix is `prefix` together with its pool's status, or nullopt.
  caf::expected<std::optional<api_key_credential>> find_by_prefix(const std::string& prefix);

  /// The key with `id`, or `errc::not_found`.
  caf::expected<api_key_row> get(const std::string& id);

  /// Ordered by (created_at, id) ascending, at most `filter.limit` rows.
  caf::expected<std::vector<api_key_row>> list(const api_key_list_filter& filter);

  /// Writes display_name, expires_at, the policy columns and updated_at of `row` (matched by id).
  caf::expected<void> update_policy(const api_key_row& row, const audit_event_row& audit);

  /// Sets status and revoked_at; bumps revocation_epoch by one when `bump_epoch`.
  caf::expected<void> set_status(const std::string& id, const std::string& status, bool bump_epoch,
                                 const std::optional<std::string>& revoked_at,
                                 const std::string& updated_at, const audit_event_row& audit);

  /// Replaces prefix and hash (the old raw key stops matching) and bumps revocation_epoch so live
  /// connections opened with the old key are fenced.
  caf::expected<void> rotate(const std::string& id, const std::string& key_prefix,
                             const std::string& key_hash, const std::string& updated_at,
                             const audit_event_row& audit);

  /// Sets last_used_at to `at` unless the stored value is newer than `at - touch_debounce`; the
  /// check is in the UPDATE's WHERE clause, so concurrent nodes cannot write twice. True when a
  /// row was written.
  caf::expected<bool> touch_last_used(const std::string& id, time_point at);

private:
  database& db_;
};

} // namespace cxp::persistence
