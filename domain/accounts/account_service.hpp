#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"

namespace cxp::domain {

/// An upstream ChatGPT account as the admin API and CLI show it. Never holds a token.
struct account_view {
  std::string id;
  std::string chatgpt_account_id;
  std::optional<std::string> chatgpt_user_id;
  std::optional<std::string> email;
  std::optional<std::string> label;
  std::optional<std::string> plan_type;
  std::string status; ///< active | refreshing | reauth_required | paused | disabled
  std::string onboarding_method;
  std::string secret_key_version;
  std::optional<std::string> access_token_expires_at;
  std::optional<std::string> last_refresh_at;
  /// The pools it serves; for an instance_admin only those among its own pools.
  std::vector<std::string> pool_ids;
  std::string created_at;
  std::string updated_at;
};

/// `{"id", "chatgpt_account_id", …, "pool_ids": [...]}` with absent optionals as null.
nlohmann::json to_json(const account_view& view);

struct import_request {
  std::string auth_json_text; ///< the contents of a Codex auth.json
  std::optional<std::string> label;
  std::vector<std::string> pool_ids; ///< pools to assign it to (added to existing assignments)
  /// How a new account arrived (`import`, `browser_oauth`, `device_code`, `invite`); an existing
  /// account keeps the method it was first added with.
  std::string onboarding_method = "import";
};

/// Re-importing the same identity (chatgpt account id + user id) updates its tokens in place:
/// `created` is false then.
struct import_result {
  account_view account;
  bool created = false;
};

/// `{"account": {...}, "created": bool}`.
nlohmann::json to_json(const import_result& result);

/// The outcome of one item of a bulk import: `account` on success, else `error_code` (an `errc`
/// wire name such as "validation_failed") and a vetted `error_message` safe to print.
struct bulk_item_result {
  std::string source; ///< file name or "[index]"
  std::optional<account_view> account;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
};

/// `{"source", "account": {...}|null, "error": {"code", "message"}|null}`.
nlohmann::json to_json(const bulk_item_result& result);

struct account_filter {
  std::optional<std::string> pool_id;
  std::optional<std::string> status;
  std::optional<std::string> search; ///< case-insensitive substring of email or label
  page_request page;
};

struct account_page {
  std::vector<account_view> items;
  std::optional<std::string>
    next_cursor; ///< pass as `page.cursor` for the next page; nullopt at the end
};

/// `{"items": [...], "next_cursor": "…"|null}`.
nlohmann::json to_json(const account_page& page);

/// Upstream accounts: auth.json import (single and bulk), listing, status, pool assignments,
/// deletion, key rotation, and decryption for the request path. Tokens are sealed with
/// AES-256-GCM under `context.upstream_keys`, the AAD bound to the row id and the token kind
/// (`secret_scope{"upstream", id, "access_token"|"refresh_token"}`); the id_token is never stored.
///
/// Authorisation: an instance_owner (or the CLI) may do everything. An instance_admin may list,
/// get, pause, resume and relabel only accounts assigned to one of its pools (others give
/// `errc::forbidden`); import, delete, assign, unassign and key rotation are owner-only. Every
/// state change writes one audit event (`upstream_account.<verb>`) in the same transaction;
/// details never contain a token. Synchronous and blocking: run on a db worker or the CLI thread.
class account_service {
public:
  explicit account_service(service_context& context) : context_(context) {}

  /// Imports one auth.json (see `parse_auth_json` for the validation, 422 with field paths). A
  /// known identity gets its tokens, email and plan replaced and leaves `reauth_required` for
  /// `active` (a paused or disabled account keeps its status); the label changes only when given.
  /// Unknown pool -> `errc::not_found`; nothing is written then.
  caf::expected<import_result> import_auth_json(const principal& who,
                                                const import_request& request);

  /// Imports each (source name, auth.json text) item on its own, all into `pool_ids`: one failure
  /// does not stop the rest. Calls `progress(done, total)` after every item (for the CLI). Use
  /// `split_auth_json_bundle` to turn a JSON array upload into items.
  std::vector<bulk_item_result>
  import_many(const principal& who, const std::vector<std::pair<std::string, std::string>>& items,
              const std::vector<std::string>& pool_ids,
              const std::function<void(size_t, size_t)>& progress = {});

  /// Newest first, keyset-paginated. Validation: limit 1..200, a known status, a cursor from a
  /// previous page. An instance_admin sees only its pools' accounts; filtering by a pool outside
  /// its scope is `errc::forbidden`.
  caf::expected<account_page> list(const principal& who, const account_filter& filter);

  /// One account; `errc::not_found` when unknown, `errc::forbidden` when outside an admin's pools.
  caf::expected<account_view> get(const principal& who, const std::string& id);

  /// Sets (or with nullopt/empty, clears) the label; at most 200 bytes, valid UTF-8 without
  /// control characters (validation error on "label").
  caf::expected<account_view> update_label(const principal& who, const std::string& id,
                                           std::optional<std::string> label);

  /// active/refreshing -> paused (idempotent when already paused). A reauth_required or disabled
  /// account cannot be paused (`errc::conflict`), so pause + resume never revives one.
  caf::expected<account_view> pause(const principal& who, const std::string& id);

  /// paused -> active (idempotent when active or refreshing). reauth_required needs a new import
  /// and disabled stays disabled: both `errc::conflict`.
  caf::expected<account_view> resume(const principal& who, const std::string& id);

  /// Deletes the account, its assignments and its quota evidence. Owner only.
  caf::expected<void> remove(const principal& who, const std::string& id);

  /// Assigns the account to an existing pool (idempotent). Unknown account or pool ->
  /// `errc::not_found`. Owner only.
  caf::expected<account_view> assign(const principal& who, const std::string& id,
                                     const std::string& pool_id);

  /// Removes the assignment (idempotent when the pool exists). Owner only.
  caf::expected<account_view> unassign(const principal& who, const std::string& id,
                                       const std::string& pool_id);

  /// Re-encrypts every row's tokens with the keyring's current version (rows already current are
  /// skipped); returns the count re-encrypted. All or nothing: one row that cannot be opened (its
  /// version missing from the keyring) fails the whole rotation with `errc::decryption_failed`
  /// and leaves every row as it was. A row changed by a concurrent refresh is re-read, never
  /// overwritten with stale tokens. Owner/CLI only.
  caf::expected<size_t> rotate_keys(const principal& who);

  /// Decrypted credentials of one account, for the request path: they never leave the process
  /// except toward the upstream. No principal: callers are internal.
  struct credentials {
    secret<std::string> access_token;
    secret<std::string> refresh_token;
    std::string chatgpt_account_id;
    int64_t generation = 0; ///< the stored token generation these tokens belong to
  };

  /// `errc::not_found` for an unknown id; `errc::decryption_failed` when the row's key version is
  /// not in the keyring or a ciphertext does not open under this row's AAD.
  caf::expected<credentials> decrypt_credentials(const std::string& id);

  /// Seals and stores the tokens of a successful refresh of `generation` and marks the account
  /// active, only while the stored generation is still `generation` (`false` otherwise). The
  /// upstream refresh token is single-use, so callers use the new tokens only after this
  /// returned. No audit event: this is the runtime's own upkeep, not an operator action.
  caf::expected<bool> store_refreshed_tokens(const std::string& id, int64_t generation,
                                             const secret<std::string>& access_token,
                                             const secret<std::string>& refresh_token,
                                             std::optional<time_point> access_token_expires_at);

private:
  service_context& context_;
};

} // namespace cxp::domain
