#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/audit/audit_repository.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One row of `operators` plus its pool assignments. `password_hash` is the Argon2id encoded
/// string and `totp_secret_ciphertext` the `to_storage` text of the sealed TOTP secret: neither is
/// ever rendered.
struct operator_row {
  std::string id;
  std::string email; ///< stored lower-cased
  std::string display_name;
  std::optional<std::string> password_hash;
  std::string role;   ///< instance_owner | instance_admin
  std::string status; ///< active | disabled | invited
  bool password_change_required = false;
  std::string totp_status = "disabled"; ///< disabled | pending | active
  std::optional<std::string> totp_secret_ciphertext;
  std::optional<int64_t> totp_last_used_step;
  std::optional<std::string> last_login_at;
  std::string created_at;
  std::string updated_at;
  std::vector<std::string> pool_ids; ///< from operator_pool_assignments, sorted
};

/// One row of `operator_sessions`; both hashes are HMAC-SHA256 of the raw tokens.
struct operator_session_row {
  std::string id;
  std::string operator_id;
  std::string token_hash;
  std::string csrf_token_hash;
  std::string status; ///< active | revoked
  std::optional<std::string> client_ip;
  std::optional<std::string> user_agent;
  std::string created_at;
  std::string last_seen_at;
  std::string expires_at;
  std::optional<std::string> revoked_at;
};

/// One row of `recovery_codes`; `code_hash` is a keyed hash of the normalized code.
struct recovery_code_row {
  std::string id;
  std::string operator_id;
  std::string code_hash;
  std::string status; ///< active | used | revoked
  std::string created_at;
  std::optional<std::string> used_at;
};

/// One row of `invites`; `token_hash` is HMAC-SHA256 of the raw invite token.
struct invite_row {
  std::string id;
  std::string token_hash;
  std::string email; ///< stored lower-cased
  std::string role;
  std::vector<std::string> pool_ids; ///< stored as a JSON array
  std::string status;                ///< active | accepted | revoked
  std::string expires_at;
  std::optional<std::string> created_by;
  std::optional<std::string> accepted_operator_id;
  std::string created_at;
  std::optional<std::string> accepted_at;
  std::optional<std::string> revoked_at;
};

/// The changes of one operator update; unset fields keep their stored value.
struct operator_update {
  std::string id;
  std::optional<std::string> display_name;
  std::optional<std::string> role;
  std::optional<std::string> status;
  std::optional<std::vector<std::string>> pool_ids; ///< replaces all assignments when set
  std::string updated_at;
};

/// What a successful login writes in one transaction.
struct login_commit {
  operator_session_row session;
  /// The TOTP step that was accepted; stored only if it is newer than the last used step.
  std::optional<int64_t> totp_step;
  /// The recovery code that was accepted; marked used only if it is still active.
  std::optional<std::string> recovery_code_id;
  std::string now;
};

/// All SQL on `operators`, `bootstrap_state`, `operator_sessions`, `recovery_codes`, `invites` and
/// `operator_pool_assignments`. Every mutation that takes an `audit_event_row` writes it in the
/// same transaction as the change. Blocking: called from db workers, the CLI and tests. Emails
/// passed in must already be lower-cased.
class operator_repository {
public:
  /// The pools assigned to `operator_id`, sorted, read inside the caller's session.
  static std::vector<std::string> pool_ids_in(soci::session& sql, const std::string& operator_id);

  explicit operator_repository(database& db) : db_(db) {}

  // -- bootstrap and operators ----------------------------------------------------------------

  /// True once bootstrap ran or any operator exists.
  caf::expected<bool> is_bootstrapped();

  /// Inserts the first owner and the `bootstrap_state` singleton. `errc::conflict` when any
  /// operator already exists or another bootstrap won the race (the singleton's primary key).
  caf::expected<void> insert_bootstrap_owner(const operator_row& owner,
                                             const audit_event_row& audit);

  /// Inserts an operator with its pool assignments (unknown pools are skipped). `errc::conflict`
  /// when the email is taken.
  caf::expected<void> insert_operator(const operator_row& row, const audit_event_row& audit);

  caf::expected<std::optional<operator_row>> find_by_id(const std::string& id);
  caf::expected<std::optional<operator_row>> find_by_email(const std::string& email);

  /// Every operator ordered by creation time, with pool assignments.
  caf::expected<std::vector<operator_row>> list_operators();

  /// Applies `update`. When the change would leave no active `instance_owner`, nothing is written
  /// and the result is `errc::conflict`. Disabling an operator revokes its active sessions.
  /// `errc::not_found` when the operator does not exist.
  caf::expected<void> update_operator(const operator_update& update, const audit_event_row& audit);

  /// Stores a new password hash and clears `password_change_required`.
  caf::expected<void> update_password(const std::string& operator_id,
                                      const std::string& password_hash, const std::string& now,
                                      const audit_event_row& audit);

  /// The subset of `pool_ids` that exist in `pools`.
  caf::expected<std::vector<std::string>>
  existing_pool_ids(const std::vector<std::string>& pool_ids);

  // -- sessions --------------------------------------------------------------------------------

  /// Inserts the session, sets `last_login_at`, consumes the TOTP step or recovery code and writes
  /// the audit event. `errc::unauthenticated` (nothing written) when the step was already used or
  /// the recovery code is no longer active, which closes the replay race between two logins.
  caf::expected<void> complete_login(const login_commit& commit, const audit_event_row& audit);

  caf::expected<std::optional<operator_session_row>>
  find_session_by_token_hash(const std::string& hash);

  /// Sets `last_seen_at` to `now` when it is older than `stale_before`.
  caf::expected<void> touch_session(const std::string& session_id, const std::string& now,
                                    const std::string& stale_before);

  /// Marks an active session revoked.
  caf::expected<void> revoke_session(const std::string& session_id, const std::string& now,
                                     const audit_event_row& audit);

  // -- TOTP and recovery codes -----------------------------------------------------------------

  /// Stores a pending TOTP secret (replacing a pending one). `errc::conflict` when TOTP is active.
  caf::expected<void> begin_totp(const std::string& operator_id, const std::string& ciphertext,
                                 const std::string& now, const audit_event_row& audit);

  /// Moves pending TOTP to active, records `step` as used, revokes all old recovery codes and
  /// inserts `codes`. `errc::conflict` when TOTP is not pending any more.
  caf::expected<void> activate_totp(const std::string& operator_id, int64_t step,
                                    const std::vector<recovery_code_row>& codes,
                                    const std::string& now, const audit_event_row& audit);

  /// Turns TOTP off, drops the secret and revokes the recovery codes.
  caf::expected<void> disable_totp(const std::string& operator_id, const std::string& now,
                                   const audit_event_row& audit);

  /// The id of the operator's active recovery code with `code_hash`, if any.
  caf::expected<std::optional<std::string>>
  find_active_recovery_code(const std::string& operator_id, const std::string& code_hash);

  // -- invites ---------------------------------------------------------------------------------

  /// Inserts an invite. `errc::conflict` when an operator already has the invite's email.
  caf::expected<void> insert_invite(const invite_row& row, const audit_event_row& audit);

  /// Every invite, newest first.
  caf::expected<std::vector<invite_row>> list_invites();

  caf::expected<std::optional<invite_row>> find_invite(const std::string& id);
  caf::expected<std::optional<invite_row>> find_invite_by_token_hash(const std::string& hash);

  /// Marks an active invite revoked. `errc::conflict` when it is not active.
  caf::expected<void> revoke_invite(const std::string& id, const std::string& now,
                                    const audit_event_row& audit);

  /// Inserts the invitee as an operator (with the invite's existing pools) and marks the invite
  /// accepted, provided it is still active and `expires_at > now`; otherwise nothing is written
  /// and the result is `errc::not_found`. `errc::conflict` when the email was taken meanwhile.
  caf::expected<void> accept_invite(const std::string& invite_id, const operator_row& row,
                                    const std::string& now, const audit_event_row& audit);

private:
  database& db_;
};

} // namespace cxp::persistence
