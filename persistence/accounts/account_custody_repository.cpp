#include "persistence/accounts/account_custody_repository.hpp"

#include <soci/soci.h>

#include "common/encoding.hpp"
#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

namespace {

account_lease_row lease_of(const soci::row& row) {
  row_reader r{row};
  return {r.text(0), r.text(1), r.text(2), r.text(3), r.opt_int64(4)};
}

constexpr const char* lease_columns =
  "account_id, owner_node_id, lease_token, expires_at, refresh_requested_generation";

std::vector<account_lease_row> leases_of_node(soci::session& sql, const std::string& node_id) {
  std::vector<account_lease_row> held;
  soci::rowset<soci::row> rows =
    (sql.prepare << "SELECT " << lease_columns
                 << " FROM account_leases WHERE owner_node_id = :node ORDER BY account_id",
     soci::use(node_id));
  for (const auto& row : rows) {
    held.push_back(lease_of(row));
  }
  return held;
}

std::optional<long long> stored_generation(soci::session& sql, const std::string& account_id) {
  long long generation = 0;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT token_generation FROM upstream_accounts WHERE id = :id",
    soci::into(generation, indicator), soci::use(account_id);
  if (!sql.got_data() || indicator != soci::i_ok) {
    return std::nullopt;
  }
  return generation;
}

} // namespace

caf::expected<std::vector<account_lease_row>>
account_custody_repository::settle(const custody_plan& plan, time_point now,
                                   std::chrono::milliseconds ttl) {
  const auto at = to_iso8601(now);
  const auto expires = to_iso8601(now + ttl);
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    for (const auto& lease : leases_of_node(sql, plan.node_id)) {
      if (plan.own.count(lease.account_id)) {
        sql << "UPDATE account_leases SET expires_at = :expires "
               "WHERE account_id = :id AND lease_token = :token",
          soci::use(expires), soci::use(lease.account_id), soci::use(lease.lease_token);
      } else {
        sql << "DELETE FROM account_leases WHERE account_id = :id AND lease_token = :token",
          soci::use(lease.account_id), soci::use(lease.lease_token);
      }
    }
    for (const auto& account_id : plan.own) {
      const auto token = new_uuid();
      sql << "INSERT INTO account_leases (account_id, owner_node_id, lease_token, acquired_at, "
             "expires_at) SELECT :id, :node, :token, :at, :expires "
             "WHERE EXISTS (SELECT 1 FROM upstream_accounts WHERE id = :id2) "
             "ON CONFLICT (account_id) DO UPDATE SET owner_node_id = excluded.owner_node_id, "
             "lease_token = excluded.lease_token, acquired_at = excluded.acquired_at, "
             "expires_at = excluded.expires_at WHERE account_leases.expires_at <= :now",
        soci::use(account_id), soci::use(plan.node_id), soci::use(token), soci::use(at),
        soci::use(expires), soci::use(account_id), soci::use(at);
    }
    auto held = leases_of_node(sql, plan.node_id);
    work.commit();
    return held;
  });
}

caf::expected<int64_t> account_custody_repository::hand_off_all(const std::string& node_id,
                                                                time_point now) {
  const auto at = to_iso8601(now);
  return db_.run([&](soci::session& sql) {
    soci::statement update =
      (sql.prepare << "UPDATE account_leases SET expires_at = :at WHERE owner_node_id = :node",
       soci::use(at), soci::use(node_id));
    update.execute(true);
    return static_cast<int64_t>(update.get_affected_rows());
  });
}

caf::expected<std::vector<account_lease_row>> account_custody_repository::leases() {
  return db_.run([](soci::session& sql) {
    std::vector<account_lease_row> all;
    soci::rowset<soci::row> rows = sql.prepare << "SELECT " << lease_columns
                                               << " FROM account_leases ORDER BY account_id";
    for (const auto& row : rows) {
      all.push_back(lease_of(row));
    }
    return all;
  });
}

caf::expected<void> account_custody_repository::request_refresh(const std::string& account_id,
                                                                int64_t generation) {
  const long long requested = generation;
  return db_.run([&](soci::session& sql) {
    sql << "UPDATE account_leases SET refresh_requested_generation = :generation, "
           "refresh_ahead = 0 WHERE account_id = :id",
      soci::use(requested), soci::use(account_id);
  });
}

caf::expected<bool> account_custody_repository::request_refresh_ahead(const std::string& account_id,
                                                                      int64_t generation) {
  const long long requested = generation;
  return db_.run([&](soci::session& sql) {
    soci::statement update =
      (sql.prepare << "UPDATE account_leases SET refresh_requested_generation = :generation, "
                      "refresh_ahead = 1 WHERE account_id = :id AND "
                      "refresh_requested_generation IS NULL",
       soci::use(requested), soci::use(account_id));
    update.execute(true);
    return update.get_affected_rows() == 1;
  });
}

caf::expected<std::vector<refresh_request>>
account_custody_repository::refresh_requests(const std::string& node_id) {
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    std::vector<refresh_request> requests;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT account_id, refresh_requested_generation, refresh_ahead FROM "
                      "account_leases WHERE owner_node_id = :node AND "
                      "refresh_requested_generation IS NOT NULL",
       soci::use(node_id));
    for (const auto& row : rows) {
      row_reader r{row};
      requests.push_back({r.text(0), r.int64(1), r.flag(2)});
    }
    // Exactly the ones read are taken (a request made meanwhile waits for the next poll); most
    // polls find none and write nothing.
    for (const auto& request : requests) {
      if (request.ahead) {
        const long long generation = request.generation;
        sql << "UPDATE account_leases SET refresh_requested_generation = NULL, refresh_ahead = 0 "
               "WHERE account_id = :id AND refresh_ahead = 1 AND "
               "refresh_requested_generation = :generation",
          soci::use(request.account_id), soci::use(generation);
      }
    }
    work.commit();
    return requests;
  });
}

caf::expected<refresh_claim> account_custody_repository::claim_refresh(
  const std::string& account_id, const std::string& oauth_client_id, const std::string& node_id,
  int64_t generation, time_point now, std::chrono::milliseconds claim_ttl, int client_limit) {
  const auto at = to_iso8601(now);
  const auto until = to_iso8601(now + claim_ttl);
  const long long claimed_generation = generation;
  return db_.transact([&](unit_of_work& work) -> refresh_claim {
    auto& sql = work.session();
    // Writing the gate row first takes its row lock (PostgreSQL) or the write lock (SQLite)
    // until commit: claims of one OAuth client are decided one at a time across the cluster.
    sql << "INSERT INTO oauth_refresh_gates (oauth_client_id, touched_at) VALUES (:client, :at) "
           "ON CONFLICT (oauth_client_id) DO UPDATE SET touched_at = excluded.touched_at",
      soci::use(oauth_client_id), soci::use(at);
    const auto stored = stored_generation(sql, account_id);
    if (!stored || *stored != claimed_generation) {
      return refresh_claim::stale;
    }
    std::string holder;
    std::string holder_until;
    soci::indicator holder_indicator = soci::i_null;
    sql << "SELECT node_id, claimed_until FROM account_refresh_claims WHERE account_id = :id",
      soci::into(holder, holder_indicator), soci::into(holder_until), soci::use(account_id);
    if (sql.got_data() && holder_indicator == soci::i_ok && holder != node_id
        && holder_until > at) {
      return refresh_claim::held;
    }
    long long live = 0;
    sql << "SELECT count(*) FROM account_refresh_claims WHERE oauth_client_id = :client "
           "AND claimed_until > :at AND account_id <> :id",
      soci::into(live), soci::use(oauth_client_id), soci::use(at), soci::use(account_id);
    if (live >= client_limit) {
      return refresh_claim::client_busy;
    }
    sql << "INSERT INTO account_refresh_claims (account_id, oauth_client_id, node_id, "
           "token_generation, claimed_until) VALUES (:id, :client, :node, :generation, :until) "
           "ON CONFLICT (account_id) DO UPDATE SET oauth_client_id = excluded.oauth_client_id, "
           "node_id = excluded.node_id, token_generation = excluded.token_generation, "
           "claimed_until = excluded.claimed_until",
      soci::use(account_id), soci::use(oauth_client_id), soci::use(node_id),
      soci::use(claimed_generation), soci::use(until);
    work.commit();
    return refresh_claim::won;
  });
}

caf::expected<bool> account_custody_repository::store_refreshed(const refreshed_tokens& tokens,
                                                                int64_t generation) {
  const long long expected = generation;
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    nullable_use<std::string> expires{tokens.access_token_expires_at};
    soci::statement update =
      (sql.prepare << "UPDATE upstream_accounts SET secret_key_version = :version, "
                      "access_token_ciphertext = :access, refresh_token_ciphertext = :refresh, "
                      "access_token_expires_at = :expires, last_refresh_at = :at, "
                      "last_refresh_error = NULL, token_generation = token_generation + 1, "
                      "status = CASE WHEN status = 'refreshing' THEN 'active' ELSE status END, "
                      "updated_at = :at2 WHERE id = :id AND token_generation = :generation",
       soci::use(tokens.key_version), soci::use(tokens.access_token_ciphertext),
       soci::use(tokens.refresh_token_ciphertext), soci::use(expires.value, expires.indicator),
       soci::use(tokens.refreshed_at), soci::use(tokens.refreshed_at), soci::use(tokens.account_id),
       soci::use(expected));
    update.execute(true);
    const bool stored = update.get_affected_rows() == 1;
    sql << "DELETE FROM account_refresh_claims WHERE account_id = :id",
      soci::use(tokens.account_id);
    sql << "UPDATE account_leases SET refresh_requested_generation = NULL "
           "WHERE account_id = :id AND refresh_requested_generation <= :generation",
      soci::use(tokens.account_id), soci::use(expected);
    work.commit();
    return stored;
  });
}

caf::expected<bool> account_custody_repository::mark_reauth_required(const std::string& account_id,
                                                                     int64_t generation,
                                                                     const std::string& error_code,
                                                                     const std::string& at) {
  const long long expected = generation;
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    soci::statement update =
      (sql.prepare << "UPDATE upstream_accounts SET status = 'reauth_required', "
                      "last_refresh_error = :code, updated_at = :at WHERE id = :id "
                      "AND status IN ('active', 'refreshing') AND token_generation = :generation",
       soci::use(error_code), soci::use(at), soci::use(account_id), soci::use(expected));
    update.execute(true);
    const bool marked = update.get_affected_rows() == 1;
    sql << "DELETE FROM account_refresh_claims WHERE account_id = :id", soci::use(account_id);
    work.commit();
    return marked;
  });
}

caf::expected<void> account_custody_repository::release_claim(const std::string& account_id,
                                                              const std::string& node_id) {
  return db_.run([&](soci::session& sql) {
    sql << "DELETE FROM account_refresh_claims WHERE account_id = :id AND node_id = :node",
      soci::use(account_id), soci::use(node_id);
  });
}

caf::expected<std::vector<std::pair<std::string, int64_t>>>
account_custody_repository::generations_since(const std::string& since) {
  return db_.run([&](soci::session& sql) {
    std::vector<std::pair<std::string, int64_t>> changed;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, token_generation FROM upstream_accounts "
                      "WHERE last_refresh_at >= :since",
       soci::use(since));
    for (const auto& row : rows) {
      row_reader r{row};
      changed.emplace_back(r.text(0), r.int64(1));
    }
    return changed;
  });
}

caf::expected<void> account_custody_repository::record_health(
  const std::string& account_id, const std::optional<std::string>& exhausted_until,
  const std::optional<std::string>& demoted_until, const std::string& at) {
  nullable_use<std::string> exhausted{exhausted_until};
  nullable_use<std::string> demoted{demoted_until};
  return db_.run([&](soci::session& sql) {
    // ISO-8601 text compares as time; a NULL argument keeps what is stored.
    sql << "INSERT INTO account_health (account_id, exhausted_until, demoted_until, updated_at) "
           "VALUES (:id, :exhausted, :demoted, :at) ON CONFLICT (account_id) DO UPDATE SET "
           "exhausted_until = CASE WHEN excluded.exhausted_until IS NULL "
           "OR account_health.exhausted_until > excluded.exhausted_until "
           "THEN account_health.exhausted_until ELSE excluded.exhausted_until END, "
           "demoted_until = COALESCE(excluded.demoted_until, account_health.demoted_until), "
           "updated_at = excluded.updated_at",
      soci::use(account_id), soci::use(exhausted.value, exhausted.indicator),
      soci::use(demoted.value, demoted.indicator), soci::use(at);
  });
}

caf::expected<std::vector<account_health_row>>
account_custody_repository::health_since(const std::string& since) {
  return db_.run([&](soci::session& sql) {
    std::vector<account_health_row> rows_out;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT account_id, exhausted_until, demoted_until, updated_at "
                      "FROM account_health WHERE updated_at >= :since",
       soci::use(since));
    for (const auto& row : rows) {
      row_reader r{row};
      rows_out.push_back({r.text(0), r.opt_text(1), r.opt_text(2), r.text(3)});
    }
    return rows_out;
  });
}

caf::expected<void> account_custody_repository::record_circuit(const std::string& account_id,
                                                               const std::string& model,
                                                               const std::string& route_class,
                                                               const std::string& open_until,
                                                               const std::string& at) {
  return db_.run([&](soci::session& sql) {
    sql << "INSERT INTO account_circuits (account_id, model, route_class, open_until, updated_at) "
           "VALUES (:id, :model, :route, :until, :at) "
           "ON CONFLICT (account_id, model, route_class) DO UPDATE SET "
           "open_until = CASE WHEN account_circuits.open_until > excluded.open_until "
           "THEN account_circuits.open_until ELSE excluded.open_until END, "
           "updated_at = excluded.updated_at",
      soci::use(account_id), soci::use(model), soci::use(route_class), soci::use(open_until),
      soci::use(at);
  });
}

caf::expected<std::vector<account_circuit_row>>
account_custody_repository::circuits_since(const std::string& since, const std::string& now_iso) {
  return db_.run([&](soci::session& sql) {
    std::vector<account_circuit_row> circuits;
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT account_id, model, route_class, open_until FROM account_circuits "
                      "WHERE updated_at >= :since AND open_until > :now",
       soci::use(since), soci::use(now_iso));
    for (const auto& row : rows) {
      row_reader r{row};
      circuits.push_back({r.text(0), r.text(1), r.text(2), r.text(3)});
    }
    return circuits;
  });
}

caf::expected<std::optional<std::string>>
account_custody_repository::session_pin(const std::string& pool_id,
                                        const std::string& session_key_hash, time_point now) {
  const auto at = to_iso8601(now);
  return db_.run([&](soci::session& sql) -> std::optional<std::string> {
    std::string account_id;
    sql << "SELECT account_id FROM http_session_pins WHERE pool_id = :pool "
           "AND session_key_hash = :key AND expires_at > :at",
      soci::into(account_id), soci::use(pool_id), soci::use(session_key_hash), soci::use(at);
    if (!sql.got_data()) {
      return std::nullopt;
    }
    return account_id;
  });
}

caf::expected<void> account_custody_repository::pin_session(const std::string& pool_id,
                                                            const std::string& session_key_hash,
                                                            const std::string& account_id,
                                                            time_point expires_at) {
  const auto until = to_iso8601(expires_at);
  return db_.run([&](soci::session& sql) {
    sql << "INSERT INTO http_session_pins (pool_id, session_key_hash, account_id, expires_at) "
           "SELECT :pool, :key, :account, :until "
           "WHERE EXISTS (SELECT 1 FROM upstream_accounts WHERE id = :account2) "
           "ON CONFLICT (pool_id, session_key_hash) DO UPDATE SET "
           "account_id = excluded.account_id, expires_at = excluded.expires_at",
      soci::use(pool_id), soci::use(session_key_hash), soci::use(account_id), soci::use(until),
      soci::use(account_id);
  });
}

} // namespace cxp::persistence
