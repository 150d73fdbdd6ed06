#include "persistence/accounts/account_repository.hpp"

#include <algorithm>
#include <cctype>

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/filtered_query.hpp"
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
  insert_row(work.session(), "upstream_accounts", account_table, row);
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
  filtered_query update{"UPDATE upstream_accounts SET status = :p0, updated_at = :p1"};
  update.bind(status);
  update.bind(updated_at);
  update.where_equal("id", id);
  if (!update.where_in("status", from)) {
    return false;
  }
  return execute_bound(work.session(), update.sql(), update.values()) > 0;
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
    filtered_query query{std::string{"SELECT "} + account_columns + " FROM upstream_accounts a"};
    if (filter.pool_id) {
      query.append(" AND EXISTS (SELECT 1 FROM pool_accounts pa WHERE pa.account_id = a.id");
      query.where_equal("pa.pool_id", *filter.pool_id);
      query.append(")");
    }
    if (filter.visible_pool_ids) {
      query.append(" AND EXISTS (SELECT 1 FROM pool_accounts pv WHERE pv.account_id = a.id");
      if (!query.where_in("pv.pool_id", *filter.visible_pool_ids)) {
        return std::vector<account_row>{};
      }
      query.append(")");
    }
    if (filter.status) {
      query.where_equal("a.status", *filter.status);
    }
    if (filter.search) {
      query.where_contains({"lower(coalesce(a.email, ''))", "lower(coalesce(a.label, ''))"},
                           *filter.search);
    }
    if (filter.after) {
      query.where_before("a.created_at", "a.id", filter.after->created_at, filter.after->id);
    }
    query.append(" ORDER BY a.created_at DESC, a.id DESC LIMIT "
                 + std::to_string(std::max(filter.limit, 1)));
    return query_rows(sql, query.sql(), query.values());
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
    filtered_query query{"SELECT account_id, pool_id FROM pool_accounts"};
    if (!query.where_in("account_id", account_ids)) {
      return result;
    }
    query.append(" ORDER BY account_id, pool_id");
    for (auto& [account_id, pool_id] :
         select_rows(sql, query.sql(), query.values(), [](const soci::row& row) {
           row_reader r{row};
           return std::pair{r.text(0), r.text(1)};
         })) {
      result[account_id].push_back(std::move(pool_id));
    }
    return result;
  });
}

} // namespace cxp::persistence
