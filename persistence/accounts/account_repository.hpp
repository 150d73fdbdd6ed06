#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace soci {
class session;
} // namespace soci

namespace cxp::persistence {

/// One `upstream_accounts` row. The token columns hold `to_storage` ciphertext (AES-256-GCM, AAD
/// bound to this row's id and the secret kind), never a raw token; the id_token is not stored.
struct account_row {
  std::string id;
  std::string chatgpt_account_id;
  std::optional<std::string> chatgpt_user_id;
  std::optional<std::string> email;
  std::optional<std::string> label;
  std::optional<std::string> plan_type;
  std::string status = "active"; ///< active | refreshing | reauth_required | paused | disabled
  std::string onboarding_method = "import";
  std::string secret_key_version; ///< the keyring version that sealed both token columns
  std::string access_token_ciphertext;
  std::string refresh_token_ciphertext;
  std::optional<std::string> access_token_expires_at;
  std::optional<std::string> last_refresh_at;
  std::optional<std::string> last_refresh_error;
  std::optional<std::string> created_by;
  std::string created_at;
  std::string updated_at;
  /// Bumped by every stored refresh and re-import: the fence of the refresh lineage.
  int64_t token_generation = 0;
};

/// The (created_at, id) position of the last row of a page; listings continue strictly after it.
struct account_cursor {
  std::string created_at;
  std::string id;
};

/// Filters of `account_repository::list`; every set field narrows the result.
struct account_list_filter {
  std::optional<std::string> pool_id;
  std::optional<std::string> status;
  std::optional<std::string> search; ///< case-insensitive substring of email or label
  /// instance_admin scope: only accounts assigned to one of these pools; nullopt = all.
  std::optional<std::vector<std::string>> visible_pool_ids;
  std::optional<account_cursor> after;
  int limit = 50;
};

/// All SQL on `upstream_accounts` and `pool_accounts` (plus the pool existence check an
/// assignment needs). The `_in` statics run inside a caller's `database::run` and transaction, so
/// a change and its audit event commit together; the members open their own session. Blocking:
/// db workers, the CLI and tests only.
class account_repository {
public:
  explicit account_repository(database& db) : db_(db) {}

  /// The row with `id`, or nullopt.
  caf::expected<std::optional<account_row>> find(const std::string& id);
  static std::optional<account_row> find_in(unit_of_work& work, const std::string& id);

  /// The row with this identity (chatgpt account id plus user id, where a missing user id matches
  /// only a missing one), or nullopt.
  static std::optional<account_row>
  find_by_identity_in(unit_of_work& work, const std::string& chatgpt_account_id,
                      const std::optional<std::string>& chatgpt_user_id);

  /// Inserts `row`; a duplicate identity fails the statement (mapped to `errc::conflict`).
  static void insert_in(unit_of_work& work, const account_row& row);

  /// Replaces the tokens, profile claims, status and expiry of an existing row (a re-import);
  /// the label is written only when `row.label` is set. Returns false when the row is gone.
  static bool update_import_in(unit_of_work& work, const account_row& row);

  /// Moves the row to `status` when its current status is one of `from`; false otherwise.
  static bool update_status_in(unit_of_work& work, const std::string& id, const std::string& status,
                               const std::vector<std::string>& from, const std::string& updated_at);

  /// Sets or clears the label; false when the row is gone.
  static bool update_label_in(unit_of_work& work, const std::string& id,
                              const std::optional<std::string>& label,
                              const std::string& updated_at);

  /// Compare-and-swap of the token columns for key rotation: writes the new ciphertexts and version
  /// only while both old ciphertexts are still in place, so a concurrent token refresh is never
  /// overwritten with stale tokens. False when the row changed (or is gone).
  static bool replace_secrets_in(unit_of_work& work, const account_row& old_row,
                                 const std::string& key_version,
                                 const std::string& access_token_ciphertext,
                                 const std::string& refresh_token_ciphertext,
                                 const std::string& updated_at);

  /// Deletes the row and its assignments; false when it did not exist.
  static bool remove_in(unit_of_work& work, const std::string& id);

  /// Up to `limit` rows with id greater than `after_id` (empty = from the start), by id: the
  /// batched walk over every row that key rotation uses.
  static std::vector<account_row> rows_after_in(unit_of_work& work, const std::string& after_id,
                                                int limit);

  /// Newest first (created_at, id), filtered, keyset-paginated.
  caf::expected<std::vector<account_row>> list(const account_list_filter& filter);

  /// True when `pools` has a row with `pool_id`.
  static bool pool_exists_in(unit_of_work& work, const std::string& pool_id);

  /// Assigns the account to the pool; false when it already was.
  static bool add_to_pool_in(unit_of_work& work, const std::string& pool_id,
                             const std::string& account_id, const std::string& created_at);

  /// Removes the assignment; false when there was none.
  static bool remove_from_pool_in(unit_of_work& work, const std::string& pool_id,
                                  const std::string& account_id);

  /// The pools the account is assigned to, sorted.
  static std::vector<std::string> pool_ids_in(unit_of_work& work, const std::string& account_id);
  caf::expected<std::vector<std::string>> pool_ids(const std::string& account_id);

  /// Account id -> sorted pool ids, for every id in `account_ids` (accounts without pools map to
  /// an empty list).
  caf::expected<std::map<std::string, std::vector<std::string>>>
  pool_ids_of(const std::vector<std::string>& account_ids);

private:
  database& db_;
};

} // namespace cxp::persistence
