#include "persistence/operators/operator_repository.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/errc.hpp"
#include "persistence/db/column_table.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

namespace {

constexpr auto operator_table = make_column_table(
  col<&operator_row::id>("id"), col<&operator_row::email>("email"),
  col<&operator_row::display_name>("display_name"),
  col<&operator_row::password_hash>("password_hash"), col<&operator_row::role>("role"),
  col<&operator_row::status>("status"),
  col<&operator_row::password_change_required>("password_change_required"),
  col<&operator_row::totp_status>("totp_status"),
  col<&operator_row::totp_secret_ciphertext>("totp_secret_ciphertext"),
  col<&operator_row::totp_last_used_step>("totp_last_used_step"),
  col<&operator_row::last_login_at>("last_login_at"), col<&operator_row::created_at>("created_at"),
  col<&operator_row::updated_at>("updated_at"));

constexpr auto session_table = make_column_table(
  col<&operator_session_row::id>("id"), col<&operator_session_row::operator_id>("operator_id"),
  col<&operator_session_row::token_hash>("token_hash"),
  col<&operator_session_row::csrf_token_hash>("csrf_token_hash"),
  col<&operator_session_row::status>("status"), col<&operator_session_row::client_ip>("client_ip"),
  col<&operator_session_row::user_agent>("user_agent"),
  col<&operator_session_row::created_at>("created_at"),
  col<&operator_session_row::last_seen_at>("last_seen_at"),
  col<&operator_session_row::expires_at>("expires_at"),
  col<&operator_session_row::revoked_at>("revoked_at"));

std::vector<std::string> parse_pool_ids(const std::string& text) {
  std::vector<std::string> ids;
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return ids;
  }
  for (const auto& item : parsed) {
    if (item.is_string()) {
      ids.push_back(item.get<std::string>());
    }
  }
  return ids;
}

constexpr auto invite_table = make_column_table(
  col<&invite_row::id>("id"), col<&invite_row::token_hash>("token_hash"),
  col<&invite_row::email>("email"), col<&invite_row::role>("role"),
  column<invite_row>{"pool_ids",
                     [](const row_reader& r, size_t i, invite_row& out) {
                       out.pool_ids = parse_pool_ids(r.text(i));
                     },
                     [](const invite_row& row, bound_value& out) {
                       out.text = nlohmann::json(row.pool_ids).dump();
                       out.indicator = soci::i_ok;
                     },
                     bound_kind::text},
  col<&invite_row::status>("status"), col<&invite_row::expires_at>("expires_at"),
  col<&invite_row::created_by>("created_by"),
  col<&invite_row::accepted_operator_id>("accepted_operator_id"),
  col<&invite_row::created_at>("created_at"), col<&invite_row::accepted_at>("accepted_at"),
  col<&invite_row::revoked_at>("revoked_at"));

/// The SELECTs every lookup of this file extends with its WHERE or ORDER BY, built once from the
/// column tables.
const std::string operator_columns = "SELECT " + operator_table.select_list() + " FROM operators";
const std::string session_columns =
  "SELECT " + session_table.select_list() + " FROM operator_sessions";
const std::string invite_columns = "SELECT " + invite_table.select_list() + " FROM invites";

operator_row read_operator(const soci::row& row) {
  return operator_table.read(row);
}

operator_session_row read_session(const soci::row& row) {
  return session_table.read(row);
}

invite_row read_invite(const soci::row& row) {
  return invite_table.read(row);
}

std::optional<operator_row> find_operator_where(soci::session& sql, const std::string& clause,
                                                const std::string& value) {
  soci::rowset<soci::row> rows =
    (sql.prepare << std::string{operator_columns} + " WHERE " + clause, soci::use(value));
  std::optional<operator_row> found;
  for (const auto& row : rows) {
    found = read_operator(row);
    break;
  }
  if (found) {
    found->pool_ids = operator_repository::pool_ids_in(sql, found->id);
  }
  return found;
}

long long count(soci::session& sql, const std::string& query) {
  long long n = 0;
  sql << query, soci::into(n);
  return n;
}

long long count_owners_other_than(soci::session& sql, const std::string& id) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM operators WHERE role = 'instance_owner' AND status = 'active' AND "
         "id <> :id",
    soci::use(id), soci::into(n);
  return n;
}

/// Replaces the assignments with the listed pools that exist; a pool deleted meanwhile is skipped
/// instead of failing the whole change on its foreign key.
void replace_assignments(soci::session& sql, const std::string& operator_id,
                         const std::vector<std::string>& pool_ids, const std::string& now) {
  sql << "DELETE FROM operator_pool_assignments WHERE operator_id = :id", soci::use(operator_id);
  auto unique = pool_ids;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  for (const auto& pool_id : unique) {
    sql << "INSERT INTO operator_pool_assignments (operator_id, pool_id, created_at) "
           "SELECT :operator_id, id, :created_at FROM pools WHERE id = :pool_id",
      soci::use(operator_id), soci::use(now), soci::use(pool_id);
  }
}

void insert_operator_in(soci::session& sql, const operator_row& row) {
  insert_row(sql, "operators", operator_table, row);
  replace_assignments(sql, row.id, row.pool_ids, row.created_at);
}

long long count_of_pool(soci::session& sql, const std::string& pool_id) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM pools WHERE id = :id", soci::use(pool_id), soci::into(n);
  return n;
}

void revoke_recovery_codes(soci::session& sql, const std::string& operator_id) {
  sql
    << "UPDATE recovery_codes SET status = 'revoked' WHERE operator_id = :id AND status = 'active'",
    soci::use(operator_id);
}

/// `database::run` treats a `caf::expected<void>` result as plain `void` and drops its error, so
/// work that can refuse (conflict, not_found) goes through an `expected<bool>` instead.
template <class Work>
caf::expected<void> run_checked(database& db, Work&& work) {
  auto done = db.run([&](soci::session& sql) -> caf::expected<bool> {
    if (auto result = work(sql); !result) {
      return std::move(result.error());
    }
    return true;
  });
  if (!done) {
    return std::move(done.error());
  }
  return {};
}

} // namespace

std::vector<std::string> operator_repository::pool_ids_in(soci::session& sql,
                                                          const std::string& operator_id) {
  std::vector<std::string> ids;
  soci::rowset<soci::row> rows = (sql.prepare << "SELECT pool_id FROM operator_pool_assignments "
                                                 "WHERE operator_id = :id ORDER BY pool_id",
                                  soci::use(operator_id));
  for (const auto& row : rows) {
    ids.push_back(row_reader{row}.text(0));
  }
  return ids;
}

caf::expected<bool> operator_repository::is_bootstrapped() {
  return db_.run([](soci::session& sql) {
    return count(sql, "SELECT COUNT(*) FROM bootstrap_state") > 0
           || count(sql, "SELECT COUNT(*) FROM operators") > 0;
  });
}

caf::expected<void> operator_repository::insert_bootstrap_owner(const operator_row& owner,
                                                                const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    if (count(sql, "SELECT COUNT(*) FROM operators") > 0) {
      return make_error(errc::conflict, "bootstrap already completed");
    }
    insert_operator_in(sql, owner);
    // The singleton's primary key makes a concurrent second bootstrap fail with a unique
    // violation (-> conflict) even when both transactions saw an empty operators table.
    sql << "INSERT INTO bootstrap_state (singleton, owner_operator_id, completed_at) VALUES (1, "
           ":id, :at)",
      soci::use(owner.id), soci::use(owner.created_at);
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<void> operator_repository::insert_operator(const operator_row& row,
                                                         const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work tr(sql);
    insert_operator_in(sql, row);
    audit_repository::record_in(sql, audit);
    tr.commit();
  });
}

caf::expected<std::optional<operator_row>> operator_repository::find_by_id(const std::string& id) {
  return db_.run([&](soci::session& sql) { return find_operator_where(sql, "id = :id", id); });
}

caf::expected<std::optional<operator_row>>
operator_repository::find_by_email(const std::string& email) {
  return db_.run(
    [&](soci::session& sql) { return find_operator_where(sql, "lower(email) = :email", email); });
}

caf::expected<std::vector<operator_row>> operator_repository::list_operators() {
  return db_.run([](soci::session& sql) {
    std::map<std::string, std::vector<std::string>> assignments;
    soci::rowset<soci::row> pairs =
      sql.prepare << "SELECT operator_id, pool_id FROM operator_pool_assignments ORDER BY pool_id";
    for (const auto& row : pairs) {
      row_reader r{row};
      assignments[r.text(0)].push_back(r.text(1));
    }
    std::vector<operator_row> out;
    soci::rowset<soci::row> rows = sql.prepare
                                   << std::string{operator_columns} + " ORDER BY created_at, id";
    for (const auto& row : rows) {
      out.push_back(read_operator(row));
      if (auto found = assignments.find(out.back().id); found != assignments.end()) {
        out.back().pool_ids = found->second;
      }
    }
    return out;
  });
}

caf::expected<void> operator_repository::update_operator(const operator_update& update,
                                                         const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    // Takes the row locks of every active owner first (PostgreSQL), so two concurrent demotions
    // of different owners serialize and the second one sees the first one's result.
    sql << "UPDATE operators SET updated_at = updated_at WHERE role = 'instance_owner' AND status "
           "= 'active'";
    auto current = find_operator_where(sql, "id = :id", update.id);
    if (!current) {
      return make_error(errc::not_found, "operator not found");
    }
    const auto role = update.role.value_or(current->role);
    const auto status = update.status.value_or(current->status);
    const auto display_name = update.display_name.value_or(current->display_name);
    const bool was_active_owner = current->role == "instance_owner" && current->status == "active";
    const bool stays_active_owner = role == "instance_owner" && status == "active";
    if (was_active_owner && !stays_active_owner && count_owners_other_than(sql, update.id) == 0) {
      return make_error(errc::conflict, "cannot demote or disable the last active owner");
    }
    sql << "UPDATE operators SET display_name = :display_name, role = :role, status = :status, "
           "updated_at = :updated_at WHERE id = :id",
      soci::use(display_name), soci::use(role), soci::use(status), soci::use(update.updated_at),
      soci::use(update.id);
    if (update.pool_ids) {
      replace_assignments(sql, update.id, *update.pool_ids, update.updated_at);
    }
    if (status != "active") {
      sql << "UPDATE operator_sessions SET status = 'revoked', revoked_at = :at "
             "WHERE operator_id = :id AND status = 'active'",
        soci::use(update.updated_at), soci::use(update.id);
    }
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<void> operator_repository::update_password(const std::string& operator_id,
                                                         const std::string& password_hash,
                                                         const std::string& now,
                                                         const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work tr(sql);
    sql << "UPDATE operators SET password_hash = :hash, password_change_required = 0, updated_at = "
           ":at "
           "WHERE id = :id",
      soci::use(password_hash), soci::use(now), soci::use(operator_id);
    audit_repository::record_in(sql, audit);
    tr.commit();
  });
}

caf::expected<std::vector<std::string>>
operator_repository::existing_pool_ids(const std::vector<std::string>& pool_ids) {
  return db_.run([&](soci::session& sql) {
    std::vector<std::string> found;
    for (const auto& id : pool_ids) {
      if (count_of_pool(sql, id) > 0) {
        found.push_back(id);
      }
    }
    return found;
  });
}

caf::expected<void> operator_repository::complete_login(const login_commit& commit,
                                                        const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    const auto& operator_id = commit.session.operator_id;
    if (commit.totp_step) {
      const long long step = *commit.totp_step;
      soci::statement claim =
        (sql.prepare << "UPDATE operators SET totp_last_used_step = :step WHERE id = :id "
                        "AND (totp_last_used_step IS NULL OR totp_last_used_step < :newer)",
         soci::use(step), soci::use(operator_id), soci::use(step));
      claim.execute(true);
      if (claim.get_affected_rows() != 1) {
        return make_error(errc::unauthenticated, "totp step already used");
      }
    }
    if (commit.recovery_code_id) {
      soci::statement claim =
        (sql.prepare << "UPDATE recovery_codes SET status = 'used', used_at = :at "
                        "WHERE id = :id AND operator_id = :operator_id AND status = 'active'",
         soci::use(commit.now), soci::use(*commit.recovery_code_id), soci::use(operator_id));
      claim.execute(true);
      if (claim.get_affected_rows() != 1) {
        return make_error(errc::unauthenticated, "recovery code already used");
      }
    }
    insert_row(sql, "operator_sessions", session_table, commit.session);
    sql << "UPDATE operators SET last_login_at = :at WHERE id = :id", soci::use(commit.now),
      soci::use(operator_id);
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<std::optional<operator_session_row>>
operator_repository::find_session_by_token_hash(const std::string& hash) {
  return db_.run([&](soci::session& sql) -> std::optional<operator_session_row> {
    soci::rowset<soci::row> rows =
      (sql.prepare << std::string{session_columns} + " WHERE token_hash = :hash", soci::use(hash));
    for (const auto& row : rows) {
      return read_session(row);
    }
    return std::nullopt;
  });
}

caf::expected<void> operator_repository::touch_session(const std::string& session_id,
                                                       const std::string& now,
                                                       const std::string& stale_before) {
  return db_.run([&](soci::session& sql) {
    sql << "UPDATE operator_sessions SET last_seen_at = :now WHERE id = :id AND last_seen_at < "
           ":stale_before",
      soci::use(now), soci::use(session_id), soci::use(stale_before);
  });
}

caf::expected<void> operator_repository::revoke_session(const std::string& session_id,
                                                        const std::string& now,
                                                        const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work tr(sql);
    sql << "UPDATE operator_sessions SET status = 'revoked', revoked_at = :at WHERE id = :id AND "
           "status = 'active'",
      soci::use(now), soci::use(session_id);
    audit_repository::record_in(sql, audit);
    tr.commit();
  });
}

caf::expected<void> operator_repository::begin_totp(const std::string& operator_id,
                                                    const std::string& ciphertext,
                                                    const std::string& now,
                                                    const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    soci::statement update =
      (sql.prepare << "UPDATE operators SET totp_status = 'pending', "
                      "totp_secret_ciphertext = :ciphertext, totp_last_used_step = NULL, "
                      "updated_at = :at WHERE id = :id AND totp_status <> 'active'",
       soci::use(ciphertext), soci::use(now), soci::use(operator_id));
    update.execute(true);
    if (update.get_affected_rows() != 1) {
      return make_error(errc::conflict, "totp already active or operator missing");
    }
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<void> operator_repository::activate_totp(const std::string& operator_id, int64_t step,
                                                       const std::vector<recovery_code_row>& codes,
                                                       const std::string& now,
                                                       const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    const long long used_step = step;
    soci::statement update = (sql.prepare << "UPDATE operators SET totp_status = 'active', "
                                             "totp_last_used_step = :step, updated_at = :at "
                                             "WHERE id = :id AND totp_status = 'pending'",
                              soci::use(used_step), soci::use(now), soci::use(operator_id));
    update.execute(true);
    if (update.get_affected_rows() != 1) {
      return make_error(errc::conflict, "totp is not pending");
    }
    revoke_recovery_codes(sql, operator_id);
    for (const auto& code : codes) {
      sql << "INSERT INTO recovery_codes (id, operator_id, code_hash, status, created_at) "
             "VALUES (:id, :operator_id, :code_hash, :status, :created_at)",
        soci::use(code.id), soci::use(code.operator_id), soci::use(code.code_hash),
        soci::use(code.status), soci::use(code.created_at);
    }
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<void> operator_repository::disable_totp(const std::string& operator_id,
                                                      const std::string& now,
                                                      const audit_event_row& audit) {
  return db_.run([&](soci::session& sql) {
    unit_of_work tr(sql);
    sql << "UPDATE operators SET totp_status = 'disabled', totp_secret_ciphertext = NULL, "
           "totp_last_used_step = NULL, updated_at = :at WHERE id = :id",
      soci::use(now), soci::use(operator_id);
    revoke_recovery_codes(sql, operator_id);
    audit_repository::record_in(sql, audit);
    tr.commit();
  });
}

caf::expected<std::optional<std::string>>
operator_repository::find_active_recovery_code(const std::string& operator_id,
                                               const std::string& code_hash) {
  return db_.run([&](soci::session& sql) -> std::optional<std::string> {
    soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM recovery_codes WHERE operator_id = :id "
                      "AND code_hash = :hash AND status = 'active'",
       soci::use(operator_id), soci::use(code_hash));
    for (const auto& row : rows) {
      return row_reader{row}.text(0);
    }
    return std::nullopt;
  });
}

caf::expected<void> operator_repository::insert_invite(const invite_row& row,
                                                       const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    long long taken = 0;
    sql << "SELECT COUNT(*) FROM operators WHERE lower(email) = :email", soci::use(row.email),
      soci::into(taken);
    if (taken > 0) {
      return make_error(errc::conflict, "an operator already has this email");
    }
    insert_row(sql, "invites", invite_table, row);
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<std::vector<invite_row>> operator_repository::list_invites() {
  return db_.run([](soci::session& sql) {
    std::vector<invite_row> out;
    soci::rowset<soci::row> rows =
      sql.prepare << std::string{invite_columns} + " ORDER BY created_at DESC, id DESC";
    for (const auto& row : rows) {
      out.push_back(read_invite(row));
    }
    return out;
  });
}

caf::expected<std::optional<invite_row>> operator_repository::find_invite(const std::string& id) {
  return db_.run([&](soci::session& sql) -> std::optional<invite_row> {
    soci::rowset<soci::row> rows =
      (sql.prepare << std::string{invite_columns} + " WHERE id = :id", soci::use(id));
    for (const auto& row : rows) {
      return read_invite(row);
    }
    return std::nullopt;
  });
}

caf::expected<std::optional<invite_row>>
operator_repository::find_invite_by_token_hash(const std::string& hash) {
  return db_.run([&](soci::session& sql) -> std::optional<invite_row> {
    soci::rowset<soci::row> rows =
      (sql.prepare << std::string{invite_columns} + " WHERE token_hash = :hash", soci::use(hash));
    for (const auto& row : rows) {
      return read_invite(row);
    }
    return std::nullopt;
  });
}

caf::expected<void> operator_repository::revoke_invite(const std::string& id,
                                                       const std::string& now,
                                                       const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    soci::statement update =
      (sql.prepare << "UPDATE invites SET status = 'revoked', revoked_at = :at "
                      "WHERE id = :id AND status = 'active'",
       soci::use(now), soci::use(id));
    update.execute(true);
    if (update.get_affected_rows() != 1) {
      return make_error(errc::conflict, "invite is not active");
    }
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

caf::expected<void> operator_repository::accept_invite(const std::string& invite_id,
                                                       const operator_row& row,
                                                       const std::string& now,
                                                       const audit_event_row& audit) {
  return run_checked(db_, [&](soci::session& sql) -> caf::expected<void> {
    unit_of_work tr(sql);
    // Claims the invite before anything else, so of two concurrent accepts only one matches the
    // active row, and a used invite reads as not_found rather than as an email conflict.
    soci::statement claim =
      (sql.prepare << "UPDATE invites SET status = 'accepted', accepted_at = :at "
                      "WHERE id = :id AND status = 'active' AND expires_at > :now",
       soci::use(now), soci::use(invite_id), soci::use(now));
    claim.execute(true);
    if (claim.get_affected_rows() != 1) {
      return make_error(errc::not_found, "invite not usable");
    }
    insert_operator_in(sql, row);
    sql << "UPDATE invites SET accepted_operator_id = :operator_id WHERE id = :id",
      soci::use(row.id), soci::use(invite_id);
    audit_repository::record_in(sql, audit);
    tr.commit();
    return {};
  });
}

} // namespace cxp::persistence
