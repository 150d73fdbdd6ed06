#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

/// One row of `upstream_onboarding_flows`: a browser sign-in or device-code flow that adds or
/// relinks an upstream account. Never holds a secret in clear: `state_hash` is a keyed hash of
/// the browser state, `sealed_secret` the AES-GCM envelope of the verifier (browser) or of the
/// device id and user code (device).
struct onboarding_flow_row {
  std::string id;
  std::string kind;    ///< browser | device
  std::string purpose; ///< link | relink | invite
  std::string status =
    "pending"; ///< pending | exchanging | completed | failed | expired | superseded
  std::optional<std::string> operator_id; ///< unset for the CLI and for invites
  std::string pool_id;
  std::optional<std::string> target_account_id; ///< relink only
  std::optional<std::string> invite_id;         ///< invite only
  std::optional<std::string> state_hash;        ///< browser only
  std::string redirect_uri;
  std::string sealed_secret;
  int64_t poll_interval_s = 0;
  std::optional<std::string> next_poll_at;
  std::optional<std::string> poll_claimed_until;
  std::optional<std::string> error_code;
  std::optional<std::string> account_id; ///< the account added or relinked
  std::string expires_at;
  std::string created_at;
  std::string updated_at;
};

/// One row of `upstream_invites`: a hosted invite for a teammate to add its ChatGPT account. The
/// raw token is shown once; only its keyed hash is stored.
struct upstream_invite_row {
  std::string id;
  std::string pool_id;
  std::string email; ///< lower-cased
  std::string token_hash;
  std::string status = "active"; ///< active | accepted | revoked | expired
  std::optional<std::string> created_by;
  std::optional<std::string> account_id;
  std::string expires_at;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> accepted_at;
  std::optional<std::string> revoked_at;
};

/// All SQL on `upstream_onboarding_flows` and `upstream_invites`. The `_in` statics run inside a
/// caller's transaction (with its audit event); blocking: db workers, the CLI and tests only.
class onboarding_repository {
public:
  static void insert_flow_in(unit_of_work& work, const onboarding_flow_row& row);
  static std::optional<onboarding_flow_row> find_flow_in(unit_of_work& work, const std::string& id);
  static std::optional<onboarding_flow_row> find_flow_by_state_in(unit_of_work& work,
                                                                  const std::string& state_hash);
  /// The newest flow of an invite, any status.
  static std::optional<onboarding_flow_row> latest_flow_of_invite_in(unit_of_work& work,
                                                                     const std::string& invite_id);

  /// Marks every pending flow started by `operator_id` (the CLI's when unset, invites excluded)
  /// superseded: only the newest pending flow per operator stays usable. Returns the count.
  static long long supersede_pending_in(unit_of_work& work,
                                        const std::optional<std::string>& operator_id,
                                        const std::string& now);

  /// Compare-and-set of the status: true only for the one caller that saw `from`. This is what
  /// makes a flow single use (two pastes race here; one wins).
  static bool transition_in(unit_of_work& work, const std::string& id, const std::string& from,
                            const std::string& to, const std::string& now,
                            const std::optional<std::string>& error_code = std::nullopt,
                            const std::optional<std::string>& account_id = std::nullopt);

  /// Claims up to `limit` pending device flows due at `now` for polling until `claim_until` (a
  /// claim still running elsewhere is skipped), so one node polls each flow.
  static std::vector<onboarding_flow_row>
  claim_due_polls(database& db, const std::string& now, const std::string& claim_until, int limit);

  /// Sets the next poll of a pending flow and releases its claim.
  static void reschedule_poll_in(unit_of_work& work, const std::string& id, int64_t interval_s,
                                 const std::string& next_poll_at, const std::string& now);

  /// The role of an active operator, re-read when a flow completes (its authority may be gone).
  static std::optional<std::string> active_operator_role_in(unit_of_work& work,
                                                            const std::string& operator_id);

  static void insert_invite_in(unit_of_work& work, const upstream_invite_row& row);
  static std::optional<upstream_invite_row> find_invite_in(unit_of_work& work,
                                                           const std::string& id);
  static std::optional<upstream_invite_row>
  find_invite_by_token_hash_in(unit_of_work& work, const std::string& token_hash);
  /// Invites, newest first; one pool's when `pool_id` is set.
  static std::vector<upstream_invite_row>
  list_invites_in(unit_of_work& work, const std::optional<std::string>& pool_id, int limit);
  /// Active invites of (pool, email) whose time ran out become `expired`.
  static void expire_active_in(unit_of_work& work, const std::string& pool_id,
                               const std::string& email, const std::string& now);
  /// Compare-and-set of an invite's status (with `accepted_at`/`revoked_at` and `account_id`).
  static bool set_invite_status_in(unit_of_work& work, const std::string& id,
                                   const std::string& from, const std::string& to,
                                   const std::string& now,
                                   const std::optional<std::string>& account_id = std::nullopt);
};

} // namespace cxp::persistence
