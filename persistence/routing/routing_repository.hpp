#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// The routing settings of one pool and the accounts assigned to it.
struct routing_pool_row {
  std::string id;
  std::string status; ///< active | disabled
  std::string routing_strategy;
  int32_t ring_size = 3;
  bool sticky_sessions = true;
  std::vector<std::string> account_ids; ///< sorted
};

/// What the request path needs of an account row besides its (sealed) tokens.
struct routing_account_row {
  std::string id;
  std::string chatgpt_account_id;
  std::optional<std::string> plan_type;
  std::string status;
  std::string updated_at; ///< changes whenever the row does; the runtime reloads on a change
};

/// One stored quota window (see actors/routing/quota.hpp for the meaning).
struct quota_window_row {
  std::string account_id;
  std::string window_kind; ///< primary | secondary
  int32_t window_minutes = 0;
  double used_percent = 0;
  std::optional<std::string> reset_at; ///< ISO-8601
  std::string source;                  ///< headers | event | usage_limit | usage_probe
  std::string observed_at;
  std::string limit_id = "codex"; ///< the limit family; one row per family and duration
  std::optional<std::string> limit_name;
};

/// One entry of an account's upstream model catalog.
struct account_model_row {
  std::string account_id;
  std::string slug;
  std::string document; ///< the upstream entry as JSON text
  std::string synced_at;
};

/// A token refresh to persist: new ciphertexts (already sealed for this row) and the expiry.
struct refreshed_tokens {
  std::string account_id;
  std::string key_version;
  std::string access_token_ciphertext;
  std::string refresh_token_ciphertext;
  std::optional<std::string> access_token_expires_at;
  std::string refreshed_at;
};

/// The SQL of the request path's account state: the pool topology it routes over, refresh
/// errors, quota evidence and the model catalog (refreshed tokens and reauth marking are fenced
/// by the token generation: account_custody_repository). Blocking: db workers only.
class routing_repository {
public:
  explicit routing_repository(database& db) : db_(db) {}

  /// Every pool with its assigned account ids.
  caf::expected<std::vector<routing_pool_row>> pools();

  /// Every account that is assigned to at least one pool.
  caf::expected<std::vector<routing_account_row>> assigned_accounts();

  /// Records a transient refresh failure (at `at`, ISO-8601) without changing the status.
  caf::expected<void> record_refresh_error(const std::string& account_id,
                                           const std::string& error_code, const std::string& at);

  /// Upserts the windows (one row per account, limit family and duration).
  caf::expected<void> save_quota_windows(const std::vector<quota_window_row>& windows);

  caf::expected<std::vector<quota_window_row>> quota_windows(const std::string& account_id);

  /// Every account's windows observed at or after `since` (ISO-8601; empty: all of them): what
  /// the other nodes learned, read back by each node's account custodian.
  caf::expected<std::vector<quota_window_row>> quota_windows_since(const std::string& since);

  /// Replaces the account's catalog with `models`.
  caf::expected<void> replace_models(const std::string& account_id,
                                     const std::vector<account_model_row>& models);

  caf::expected<std::vector<account_model_row>> models(const std::string& account_id);

private:
  database& db_;
};

} // namespace cxp::persistence
