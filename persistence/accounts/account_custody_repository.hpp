#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "persistence/db/database.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::persistence {

/// Who owns an upstream account (the one node whose account actor refreshes its tokens, probes
/// its usage and syncs its catalog), until `expires_at`. Every acquisition makes a new token: a
/// node that lost the lease can neither renew nor release it.
struct account_lease_row {
  std::string account_id;
  std::string owner_node_id;
  std::string lease_token;
  std::string expires_at;
  /// A replica's 401 asks the owner to refresh the token of this generation.
  std::optional<int64_t> refresh_requested_generation;
};

/// What a node does with account leases in one custody round.
struct custody_plan {
  std::string node_id;
  /// The accounts this node should own: held ones are renewed, free or expired ones taken; a held
  /// lease outside this set is released (another live node should own it, or it left the pools).
  std::set<std::string> own;
};

/// A refresh asked of an account's owner: the token generation to replace, and whether it is
/// ahead of expiry (the refresh sweep) rather than after a rejection (a replica's 401).
struct refresh_request {
  std::string account_id;
  int64_t generation = 0;
  bool ahead = false;
};

/// How a refresh claim went.
enum class refresh_claim {
  won,         ///< this node may spend the refresh token of the named generation
  held,        ///< another node's live claim: wait for the generation it stores
  stale,       ///< the database holds a newer generation already: reload it
  client_busy, ///< the OAuth client's cluster-wide refresh limit is reached: retry later
};

/// Cross-node health evidence of one account.
struct account_health_row {
  std::string account_id;
  std::optional<std::string> exhausted_until;
  std::optional<std::string> demoted_until;
  std::string updated_at;
};

/// A circuit some node opened for (account, model, route class), until `open_until`.
struct account_circuit_row {
  std::string account_id;
  std::string model;
  std::string route_class;
  std::string open_until;
};

/// All SQL of account custody: ownership leases, the fenced token refresh (claim with expiry,
/// compare-and-swap store on `upstream_accounts.token_generation`), health evidence shared
/// between nodes and HTTP session pins. Times are the caller's clock. Blocking: db workers only.
class account_custody_repository {
public:
  explicit account_custody_repository(database& db) : db_(db) {}

  /// One custody round in one transaction (see `custody_plan`); renewed and taken leases last
  /// until `now + ttl`. Answers the leases the node holds afterwards.
  caf::expected<std::vector<account_lease_row>> settle(const custody_plan& plan, time_point now,
                                                       std::chrono::milliseconds ttl);

  /// Expires every lease of `node_id` now (a draining node), so the next owner takes over at
  /// once. Answers how many.
  caf::expected<int64_t> hand_off_all(const std::string& node_id, time_point now);

  /// Every lease, live or expired.
  caf::expected<std::vector<account_lease_row>> leases();

  /// Asks the owner of `account_id` to refresh the token of `generation`, which was rejected.
  caf::expected<void> request_refresh(const std::string& account_id, int64_t generation);

  /// Asks the owner of `account_id` to refresh the token of `generation` before it expires,
  /// unless a refresh is already asked of it; false when the account has no owner or a request
  /// was pending.
  caf::expected<bool> request_refresh_ahead(const std::string& account_id, int64_t generation);

  /// The refreshes asked of `node_id`'s leases. A refresh ahead is handed out once (this read
  /// takes it); a rejection's stays until a newer generation is stored.
  caf::expected<std::vector<refresh_request>> refresh_requests(const std::string& node_id);

  /// Claims the right to spend the refresh token of `generation` for `claim_ttl`: `stale` when
  /// the stored generation moved on, `held` while another node's claim is live, `client_busy`
  /// when `client_limit` claims of `oauth_client_id` are live across all accounts. Serialised
  /// per OAuth client through a gate row, so the limit holds across nodes.
  caf::expected<refresh_claim> claim_refresh(const std::string& account_id,
                                             const std::string& oauth_client_id,
                                             const std::string& node_id, int64_t generation,
                                             time_point now, std::chrono::milliseconds claim_ttl,
                                             int client_limit);

  /// Stores a refresh result only while the stored generation is still `generation`
  /// (compare-and-swap), bumping it and clearing the claim; `false` when it moved on.
  caf::expected<bool> store_refreshed(const refreshed_tokens& tokens, int64_t generation);

  /// Marks the account `reauth_required` only while the stored generation is `generation` (a
  /// node whose refresh token was spent by someone who stored a newer one must reload, not mark);
  /// clears the claim. `false` when not marked.
  caf::expected<bool> mark_reauth_required(const std::string& account_id, int64_t generation,
                                           const std::string& error_code, const std::string& at);

  /// Drops this node's claim (a refresh that failed transiently), so another try can claim.
  caf::expected<void> release_claim(const std::string& account_id, const std::string& node_id);

  /// The stored token generation of each account whose tokens were stored at or after `since`.
  caf::expected<std::vector<std::pair<std::string, int64_t>>>
  generations_since(const std::string& since);

  /// Records exhaustion (kept when a later one is stored) or demotion evidence.
  caf::expected<void> record_health(const std::string& account_id,
                                    const std::optional<std::string>& exhausted_until,
                                    const std::optional<std::string>& demoted_until,
                                    const std::string& at);

  /// Health evidence recorded at or after `since` (every row when empty).
  caf::expected<std::vector<account_health_row>> health_since(const std::string& since);

  /// Records that a circuit of the account opened until `open_until` (a later end is kept).
  caf::expected<void> record_circuit(const std::string& account_id, const std::string& model,
                                     const std::string& route_class, const std::string& open_until,
                                     const std::string& at);

  /// Circuits recorded at or after `since` that are still open at `now_iso`.
  caf::expected<std::vector<account_circuit_row>> circuits_since(const std::string& since,
                                                                 const std::string& now_iso);

  /// The account a pool pinned an HTTP session to, while the pin is live.
  caf::expected<std::optional<std::string>>
  session_pin(const std::string& pool_id, const std::string& session_key_hash, time_point now);

  /// Pins the session to `account_id` until `expires_at` (a newer pin replaces an older one).
  caf::expected<void> pin_session(const std::string& pool_id, const std::string& session_key_hash,
                                  const std::string& account_id, time_point expires_at);

private:
  database& db_;
};

} // namespace cxp::persistence
