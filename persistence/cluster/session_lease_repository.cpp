#include "persistence/cluster/session_lease_repository.hpp"

#include <soci/soci.h>

#include "common/encoding.hpp"
#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

namespace {

std::optional<session_lease_row> select_lease(soci::session& sql, const std::string& key) {
  soci::rowset<soci::row> rows =
    (sql.prepare << "SELECT session_key_hash, owner_node_id, lease_token, account_id, "
                    "acquired_at, expires_at FROM session_leases WHERE session_key_hash = :key",
     soci::use(key));
  for (const auto& row : rows) {
    row_reader r{row};
    return session_lease_row{r.text(0), r.text(1), r.text(2), r.opt_text(3), r.text(4), r.text(5)};
  }
  return std::nullopt;
}

/// Takes `key` for `node` under `token` when it is free, expired or already the node's. One
/// statement per key, so two nodes racing for it serialise on the row and exactly one token
/// ends up stored; the caller reads it back to learn which.
void take_key(soci::session& sql, const std::string& key, const std::string& node,
              const std::string& token, const std::optional<std::string>& account_id,
              const std::string& at, const std::string& expires) {
  nullable_use<std::string> account{account_id};
  sql << "INSERT INTO session_leases (session_key_hash, owner_node_id, lease_token, "
         "account_id, acquired_at, expires_at) VALUES (:key, :node, :token, :account, :at, "
         ":expires) ON CONFLICT (session_key_hash) DO UPDATE SET "
         "owner_node_id = excluded.owner_node_id, lease_token = excluded.lease_token, "
         "account_id = COALESCE(excluded.account_id, session_leases.account_id), "
         "acquired_at = excluded.acquired_at, expires_at = excluded.expires_at "
         "WHERE session_leases.expires_at <= :now OR session_leases.owner_node_id = :same",
    soci::use(key), soci::use(node), soci::use(token), soci::use(account.value, account.indicator),
    soci::use(at), soci::use(expires), soci::use(at), soci::use(node);
}

} // namespace

caf::expected<std::optional<session_lease_row>>
session_lease_repository::acquire(const std::string& session_key_hash, const std::string& node_id,
                                  const std::optional<std::string>& account_id, time_point now,
                                  std::chrono::milliseconds ttl,
                                  const std::vector<std::string>& also) {
  const auto token = new_uuid();
  const auto at = to_iso8601(now);
  const auto expires = to_iso8601(now + ttl);
  return db_.run([&](soci::session& sql) -> std::optional<session_lease_row> {
    take_key(sql, session_key_hash, node_id, token, account_id, at, expires);
    auto lease = select_lease(sql, session_key_hash);
    if (!lease || lease->lease_token != token) {
      return std::nullopt;
    }
    for (const auto& key : also) {
      if (key != session_key_hash) {
        take_key(sql, key, node_id, token, account_id, at, expires);
      }
    }
    return lease;
  });
}

caf::expected<bool> session_lease_repository::add_key(
  const std::string& session_key_hash, const std::string& node_id, const std::string& lease_token,
  const std::optional<std::string>& account_id, time_point now, std::chrono::milliseconds ttl) {
  const auto at = to_iso8601(now);
  const auto expires = to_iso8601(now + ttl);
  return db_.run([&](soci::session& sql) {
    take_key(sql, session_key_hash, node_id, lease_token, account_id, at, expires);
    auto lease = select_lease(sql, session_key_hash);
    return lease && lease->lease_token == lease_token;
  });
}

caf::expected<bool> session_lease_repository::renew(const std::string& session_key_hash,
                                                    const std::string& lease_token, time_point now,
                                                    std::chrono::milliseconds ttl) {
  const auto expires = to_iso8601(now + ttl);
  return db_.run([&](soci::session& sql) {
    soci::statement update =
      (sql.prepare << "UPDATE session_leases SET expires_at = :expires "
                      "WHERE session_key_hash = :key AND lease_token = :token",
       soci::use(expires), soci::use(session_key_hash), soci::use(lease_token));
    update.execute(true);
    return update.get_affected_rows() == 1;
  });
}

caf::expected<std::vector<std::pair<std::string, std::string>>>
session_lease_repository::renew_owned(const std::string& node_id, time_point now,
                                      std::chrono::milliseconds ttl) {
  const auto expires = to_iso8601(now + ttl);
  return db_.run([&](soci::session& sql) {
    sql << "UPDATE session_leases SET expires_at = :expires WHERE owner_node_id = :node",
      soci::use(expires), soci::use(node_id);
    std::vector<std::pair<std::string, std::string>> held;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT session_key_hash, lease_token FROM session_leases "
                      "WHERE owner_node_id = :node",
       soci::use(node_id));
    for (const auto& row : rows) {
      row_reader r{row};
      held.emplace_back(r.text(0), r.text(1));
    }
    return held;
  });
}

caf::expected<bool> session_lease_repository::pin_account(const std::string& session_key_hash,
                                                          const std::string& lease_token,
                                                          const std::string& account_id) {
  return db_.run([&](soci::session& sql) {
    soci::statement update =
      (sql.prepare << "UPDATE session_leases SET account_id = :account "
                      "WHERE session_key_hash = :key AND lease_token = :token",
       soci::use(account_id), soci::use(session_key_hash), soci::use(lease_token));
    update.execute(true);
    return update.get_affected_rows() == 1;
  });
}

caf::expected<bool> session_lease_repository::release(const std::string& session_key_hash,
                                                      const std::string& lease_token) {
  return db_.run([&](soci::session& sql) {
    soci::statement remove =
      (sql.prepare << "DELETE FROM session_leases WHERE session_key_hash = :key "
                      "AND lease_token = :token",
       soci::use(session_key_hash), soci::use(lease_token));
    remove.execute(true);
    return remove.get_affected_rows() == 1;
  });
}

caf::expected<int64_t> session_lease_repository::hand_off_all(const std::string& node_id,
                                                              time_point now) {
  const auto at = to_iso8601(now);
  return db_.run([&](soci::session& sql) {
    soci::statement expire =
      (sql.prepare << "UPDATE session_leases SET expires_at = :at WHERE owner_node_id = :node",
       soci::use(at), soci::use(node_id));
    expire.execute(true);
    return static_cast<int64_t>(expire.get_affected_rows());
  });
}

caf::expected<std::optional<session_lease_row>>
session_lease_repository::find(const std::string& session_key_hash) {
  return db_.run([&](soci::session& sql) { return select_lease(sql, session_key_hash); });
}

} // namespace cxp::persistence
