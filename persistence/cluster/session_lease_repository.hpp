#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// Who owns a websocket session (codex-notes §6.3): the node whose `stream_actor` holds the
/// session's upstream socket, until `expires_at`. The session key is stored hashed (the edge's
/// salted SHA-256 alias); `account_id` is the account the session is pinned to, so a node that
/// takes an expired lease over continues on the same account.
struct session_lease_row {
  std::string session_key_hash;
  std::string owner_node_id;
  std::string lease_token; ///< a UUID; every acquisition makes a new one (the fence)
  std::optional<std::string> account_id;
  std::string acquired_at;
  std::string expires_at;
};

/// All SQL on `session_leases`. Every write after `acquire` is fenced by the lease token: a node
/// that lost its lease (it expired and another node acquired it) can neither renew nor release
/// nor re-pin it. Times are the caller's clock (`now`), so tests drive expiry with a manual clock.
/// Blocking; called from db workers only.
class session_lease_repository {
public:
  explicit session_lease_repository(database& db) : db_(db) {}

  /// Takes the lease of `session_key_hash` for `node_id` until `now + ttl` when it is free,
  /// expired, or already held by `node_id` (a re-acquisition gets a new token). `account_id`,
  /// when set, replaces the recorded account; otherwise a taken-over lease keeps it.
  /// Answers the new lease, or `nullopt` when another node holds a live lease.
  /// `also` are more hashed keys of the same session (window id, session header): when the
  /// lease is won, each of them that is free, expired or ours is taken under the same token, so
  /// a client that reconnects naming only one of them finds the owner.
  caf::expected<std::optional<session_lease_row>>
  acquire(const std::string& session_key_hash, const std::string& node_id,
          const std::optional<std::string>& account_id, time_point now,
          std::chrono::milliseconds ttl, const std::vector<std::string>& also = {});

  /// Adds `session_key_hash` to the session `node_id` holds under `lease_token` (an alias the
  /// session learned after it opened, e.g. a later response id), with `account_id` when set:
  /// taken when free, expired or already `node_id`'s; `false` when another node holds it live.
  caf::expected<bool> add_key(const std::string& session_key_hash, const std::string& node_id,
                              const std::string& lease_token,
                              const std::optional<std::string>& account_id, time_point now,
                              std::chrono::milliseconds ttl);

  /// Extends a lease still held under `lease_token` to `now + ttl`; `false` when it was lost.
  caf::expected<bool> renew(const std::string& session_key_hash, const std::string& lease_token,
                            time_point now, std::chrono::milliseconds ttl);

  /// Extends every lease `node_id` holds to `now + ttl` in one statement (the owner's periodic
  /// renewal; a lease another node took over is not the owner's any more and is untouched) and
  /// answers the (key, token) pairs it now holds, so the owner can tell which it lost.
  caf::expected<std::vector<std::pair<std::string, std::string>>>
  renew_owned(const std::string& node_id, time_point now, std::chrono::milliseconds ttl);

  /// Records the account the session is pinned to; `false` when the lease was lost.
  caf::expected<bool> pin_account(const std::string& session_key_hash,
                                  const std::string& lease_token, const std::string& account_id);

  /// Deletes a lease still held under `lease_token`; `false` when it was lost.
  caf::expected<bool> release(const std::string& session_key_hash, const std::string& lease_token);

  /// Hands every lease of `node_id` off (a drained node): each expires at `now` but keeps its
  /// session's account, so the first node to see the session again takes it over at once and
  /// continues on the same account. Answers how many.
  caf::expected<int64_t> hand_off_all(const std::string& node_id, time_point now);

  /// The lease of `session_key_hash`, live or expired, or `nullopt`.
  caf::expected<std::optional<session_lease_row>> find(const std::string& session_key_hash);

private:
  database& db_;
};

} // namespace cxp::persistence
