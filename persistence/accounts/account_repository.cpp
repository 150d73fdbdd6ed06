#include "persistence/accounts/account_repository.hpp"

#include <algorithm>
#include <cctype>

#include <soci/soci.h>

#include "common/encoding.hpp"
#include "persistence/db/column_table.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"

namespace cxp::persistence {

namespace {

constexpr auto account_table = make_column_table(
  col<&account_row::id>("id"), col<&account_row::chatgpt_account_id>("chatgpt_account_id"),
  col<&account_row::chatgpt_user_id>("chatgpt_user_id"), col<&account_row::email>("email"),
  col<&account_row::label>("label"), col<&account_row::plan_type>("plan_type"),
  col<&account_row::status>("status"), col<&account_row::onboarding_method>("onboarding_method"),
  col<&account_row::secret_key_version>("secret_key_version"),
  col<&account_row::access_token_ciphertext>("access_token_ciphertext"),
  col<&account_row::refresh_token_ciphertext>("refresh_token_ciphertext"),
  col<&account_row::access_token_expires_at>("access_token_expires_at"),
  col<&account_row::last_refresh_at>("last_refresh_at"),
  col<&account_row::last_refresh_error>("last_refresh_error"),
  col<&account_row::created_by>("created_by"), col<&account_row::created_at>("created_at"),
  col<&account_row::updated_at>("updated_at"),
  col<&account_row::token_generation>("token_generation"));
/// The column list every query of this file selects, built once from the table.
const std::string account_columns = account_table.select_list("a");

account_row from_row(const soci::row& row) {
  return account_table.read(row);
}

std::vector<account_row> query_rows(soci::session& sql, const std::string& query,
                                    const std::vector<std::string>& values) {
  return select_rows(sql, query, values, from_row);
}

std::string placeholder(size_t index) {
  return ":p" + std::to_string(index);
}

/// `%text%` for LIKE with the wildcards of `text` escaped by a backslash, lower-cased (ASCII, as
/// SQLite's lower()).
std::string like_pattern(const std::string& text) {
  std::string pattern = "%";
  for (const char c : ascii_lowercase(text)) {
    if (c == '%' || c == '_' || c == '\\') {
      pattern += '\\';
    }
    pattern += c;
  }
  pattern += '%';
  return pattern;
}

long long affected(soci::statement& statement) {
  return statement.get_affected_rows();
}

} // namespace

caf::expected<std::optional<account_row>> account_repository::find(const std::string& id) {
  return db_.transact([&](unit_of_work& work) { return find_in(work, id); });
}

std::optional<account_row> account_repository::find_in(unit_of_work& work, const std::string& id) {
  auto& sql = work.session();
  auto rows = query_rows(
    sql, std::string{"SELECT "} + account_columns + " FROM upstream_accounts a WHERE a.id = :p0",
    {id});
  if (rows.empty()) {
    return std::nullopt;
  }
  return std::move(rows.front());
}

std::optional<account_row>
account_repository::find_by_identity_in(unit_of_work& work, const std::string& chatgpt_account_id,
                                        const std::optional<std::string>& chatgpt_user_id) {
  auto& sql = work.session();
  auto rows = query_rows(sql,
                         std::string{"SELECT "} + account_columns
                           + " FROM upstream_accounts a WHERE a.chatgpt_account_id = :p0"
                             " AND coalesce(a.chatgpt_user_id, '') = :p1",
                         {chatgpt_account_id, chatgpt_user_id.value_or(std::string{})});
  if (rows.empty()) {
    return std::nullopt;
  }
  return std::move(rows.front());
}

void account_repository::insert_in(unit_of_work& work, const account_row& row) {
  auto& sql = work.session();
  nullable_use<std::string> user_id{row.chatgpt_user_id};
  nullable_use<std::string> email{row.email};
  nullable_use<std::string> label{row.label};
  nullable_use<std::string> plan_type{row.plan_type};
  nullable_use<std::string> expires_at{row.access_token_expires_at};
  nullable_use<std::string> last_refresh_at{row.last_refresh_at};
  nullable_use<std::string> last_refresh_error{row.last_refresh_error};
  nullable_use<std::string> created_by{row.created_by};
  sql
    << "INSERT INTO upstream_accounts (id, chatgpt_account_id, chatgpt_user_id, email, label, "
       "plan_type, status, "
       "onboarding_method, secret_key_version, access_token_ciphertext, refresh_token_ciphertext, "
       "access_token_expires_at, last_refresh_at, last_refresh_error, created_by, created_at, "
       "updated_at) "
       "VALUES (:id, :chatgpt_account_id, :chatgpt_user_id, :email, :label, :plan_type, :status, "
       ":onboarding_method, :secret_key_version, :access_token_ciphertext, "
       ":refresh_token_ciphertext, "
       ":access_token_expires_at, :last_refresh_at, :last_refresh_error, :created_by, :created_at, "
       ":updated_at)",
    soci::use(row.id), soci::use(row.chatgpt_account_id),
    soci::use(user_id.value, user_id.indicator), soci::use(email.value, email.indicator),
    soci::use(label.value, label.indicator), soci::use(plan_type.value, plan_type.indicator),
    soci::use(row.status), soci::use(row.onboarding_method), soci::use(row.secret_key_version),
    soci::use(row.access_token_ciphertext), soci::use(row.refresh_token_ciphertext),
    soci::use(expires_at.value, expires_at.indicator),
    soci::use(last_refresh_at.value, last_refresh_at.indicator),
    soci::use(last_refresh_error.value, last_refresh_error.indicator),
    soci::use(created_by.value, created_by.indicator), soci::use(row.created_at),
    soci::use(row.updated_at);
}

bool account_repository::update_import_in(unit_of_work& work, const account_row& row) {
  auto& sql = work.session();
  nullable_use<std::string> email{row.email};
  nullable_use<std::string> label{row.label};
  nullable_use<std::string> plan_type{row.plan_type};
  nullable_use<std::string> expires_at{row.access_token_expires_at};
  nullable_use<std::string> last_refresh_at{row.last_refresh_at};
  soci::statement statement =
    (sql.prepare
       << "UPDATE upstream_accounts SET email = COALESCE(:email, email), label = COALESCE(:label, "
          "label), "
          "plan_type = COALESCE(:plan_type, plan_type), status = :status, "
          "secret_key_version = :secret_key_version, access_token_ciphertext = "
          ":access_token_ciphertext, "
          "refresh_token_ciphertext = :refresh_token_ciphertext, "
          "access_token_expires_at = :access_token_expires_at, last_refresh_at = :last_refresh_at, "
          "last_refresh_error = NULL, token_generation = token_generation + 1, "
          "updated_at = :updated_at WHERE id = :id",
     soci::use(email.value, email.indicator), soci::use(label.value, label.indicator),
     soci::use(plan_type.value, plan_type.indicator), soci::use(row.status),
     soci::use(row.secret_key_version), soci::use(row.access_token_ciphertext),
     soci::use(row.refresh_token_ciphertext), soci::use(expires_at.value, expires_at.indicator),
     soci::use(last_refresh_at.value, last_refresh_at.indicator), soci::use(row.updated_at),
     soci::use(row.id));
  statement.execute(true);
  return affected(statement) > 0;
}

bool account_repository::update_status_in(unit_of_work& work, const std::string& id,
                                          const std::string& status,
                                          const std::vector<std::string>& from,
                                          const std::string& updated_at) {
  auto& sql = work.session();
  if (from.empty()) {
    return false;
  }
  std::string query =
    "UPDATE upstream_accounts SET status = :p0, updated_at = :p1 WHERE id = :p2 AND status IN (";
  std::vector<std::string> values{status, updated_at, id};
  for (size_t i = 0; i < from.size(); ++i) {
    query += (i ? ", " : "") + placeholder(values.size());
    values.push_back(from[i]);
  }
  query += ")";
  soci::statement statement = sql.prepare << query;
  for (const auto& value : values) {
    statement.exchange(soci::use(value));
  }
  statement.define_and_bind();
  statement.execute(true);
  return affected(statement) > 0;
}

bool account_repository::update_label_in(unit_of_work& work, const std::string& id,
                                         const std::optional<std::string>& label,
                                         const std::string& updated_at) {
  auto& sql = work.session();
  nullable_use<std::string> value{label};
  soci::statement statement =
    (sql.prepare
       << "UPDATE upstream_accounts SET label = :label, updated_at = :updated_at WHERE id = :id",
     soci::use(value.value, value.indicator), soci::use(updated_at), soci::use(id));
  statement.execute(true);
  return affected(statement) > 0;
}

bool account_repository::replace_secrets_in(unit_of_work& work, const account_row& old_row,
                                            const std::string& key_version,
                                            const std::string& access_token_ciphertext,
                                            const std::string& refresh_token_ciphertext,
                                            const std::string& updated_at) {
  auto& sql = work.session();
  soci::statement statement =
    (sql.prepare << "UPDATE upstream_accounts SET secret_key_version = :version, "
                    "access_token_ciphertext = :access, refresh_token_ciphertext = :refresh, "
                    "updated_at = :updated_at "
                    "WHERE id = :id AND access_token_ciphertext = :old_access "
                    "AND refresh_token_ciphertext = :old_refresh",
     soci::use(key_version), soci::use(access_token_ciphertext),
     soci::use(refresh_token_ciphertext), soci::use(updated_at), soci::use(old_row.id),
     soci::use(old_row.access_token_ciphertext), soci::use(old_row.refresh_token_ciphertext));
  statement.execute(true);
  return affected(statement) > 0;
}

bool account_repository::remove_in(unit_of_work& work, const std::string& id) {
  auto& sql = work.session();
  sql << "DELETE FROM pool_accounts WHERE account_id = :id", soci::use(id);
  soci::statement statement =
    (sql.prepare << "DELETE FROM upstream_accounts WHERE id = :id", soci::use(id));
  statement.execute(true);
  return affected(statement) > 0;
}

std::vector<account_row> account_repository::rows_after_in(unit_of_work& work,
                                                           const std::string& after_id, int limit) {
  auto& sql = work.session();
  return query_rows(sql,
                    std::string{"SELECT "} + account_columns
                      + " FROM upstream_accounts a WHERE a.id > :p0 " + "ORDER BY a.id LIMIT "
                      + std::to_string(std::max(limit, 1)),
                    {after_id});
}

caf::expected<std::vector<account_row>>
account_repository::list(const account_list_filter& filter) {
  return db_.run([&](soci::session& sql) {
    std::string query =
      std::string{"SELECT "} + account_columns + " FROM upstream_accounts a WHERE 1 = 1";
    std::vector<std::string> values;
    auto bind = [&](const std::string& value) {
      values.push_back(value);
      return placeholder(values.size() - 1);
    };
    if (filter.pool_id) {
      query +=
        " AND EXISTS (SELECT 1 FROM pool_accounts pa WHERE pa.account_id = a.id AND pa.pool_id = "
        + bind(*filter.pool_id) + ")";
    }
    if (filter.visible_pool_ids) {
      if (filter.visible_pool_ids->empty()) {
        return std::vector<account_row>{};
      }
      query += " AND EXISTS (SELECT 1 FROM pool_accounts pv WHERE pv.account_id = a.id AND "
               "pv.pool_id IN (";
      for (size_t i = 0; i < filter.visible_pool_ids->size(); ++i) {
        query += (i ? ", " : "") + bind((*filter.visible_pool_ids)[i]);
      }
      query += "))";
    }
    if (filter.status) {
      query += " AND a.status = " + bind(*filter.status);
    }
    if (filter.search) {
      const auto pattern = like_pattern(*filter.search);
      query += " AND (lower(coalesce(a.email, '')) LIKE " + bind(pattern) + " ESCAPE '\\'"
               + " OR lower(coalesce(a.label, '')) LIKE " + bind(pattern) + " ESCAPE '\\')";
    }
    if (filter.after) {
      const auto at = bind(filter.after->created_at);
      const auto at_again = bind(filter.after->created_at);
      const auto id = bind(filter.after->id);
      query += " AND (a.created_at < " + at + " OR (a.created_at = " + at_again + " AND a.id < "
               + id + "))";
    }
    query +=
      " ORDER BY a.created_at DESC, a.id DESC LIMIT " + std::to_string(std::max(filter.limit, 1));
    return query_rows(sql, query, values);
  });
}

bool account_repository::pool_exists_in(unit_of_work& work, const std::string& pool_id) {
  auto& sql = work.session();
  int found = 0;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT 1 FROM pools WHERE id = :id", soci::use(pool_id), soci::into(found, indicator);
  return sql.got_data() && indicator == soci::i_ok;
}

bool account_repository::add_to_pool_in(unit_of_work& work, const std::string& pool_id,
                                        const std::string& account_id,
                                        const std::string& created_at) {
  auto& sql = work.session();
  soci::statement statement =
    (sql.prepare << "INSERT INTO pool_accounts (pool_id, account_id, created_at) VALUES (:pool_id, "
                    ":account_id, "
                    ":created_at) ON CONFLICT (pool_id, account_id) DO NOTHING",
     soci::use(pool_id), soci::use(account_id), soci::use(created_at));
  statement.execute(true);
  return affected(statement) > 0;
}

bool account_repository::remove_from_pool_in(unit_of_work& work, const std::string& pool_id,
                                             const std::string& account_id) {
  auto& sql = work.session();
  soci::statement statement =
    (sql.prepare
       << "DELETE FROM pool_accounts WHERE pool_id = :pool_id AND account_id = :account_id",
     soci::use(pool_id), soci::use(account_id));
  statement.execute(true);
  return affected(statement) > 0;
}

std::vector<std::string> account_repository::pool_ids_in(unit_of_work& work,
                                                         const std::string& account_id) {
  auto& sql = work.session();
  std::vector<std::string> ids;
  soci::rowset<soci::row> rows =
    (sql.prepare << "SELECT pool_id FROM pool_accounts WHERE account_id = :id ORDER BY pool_id",
     soci::use(account_id));
  for (const auto& row : rows) {
    ids.push_back(row_reader{row}.text(0));
  }
  return ids;
}

caf::expected<std::vector<std::string>>
account_repository::pool_ids(const std::string& account_id) {
  return db_.transact([&](unit_of_work& work) { return pool_ids_in(work, account_id); });
}

caf::expected<std::map<std::string, std::vector<std::string>>>
account_repository::pool_ids_of(const std::vector<std::string>& account_ids) {
  return db_.run([&](soci::session& sql) {
    std::map<std::string, std::vector<std::string>> result;
    for (const auto& id : account_ids) {
      result[id];
    }
    if (account_ids.empty()) {
      return result;
    }
    std::string query = "SELECT account_id, pool_id FROM pool_accounts WHERE account_id IN (";
    for (size_t i = 0; i < account_ids.size(); ++i) {
      query += (i ? ", " : "") + placeholder(i);
    }
    query += ") ORDER BY account_id, pool_id";
    soci::statement statement = sql.prepare << query;
    for (const auto& id : account_ids) {
      statement.exchange(soci::use(id));
    }
    soci::row row;
    statement.exchange(soci::into(row));
    statement.define_and_bind();
    statement.execute(false);
    while (statement.fetch()) {
      row_reader r{row};
      result[r.text(0)].push_back(r.text(1));
    }
    return result;
  });
}

} // namespace cxp::persistence
