#include "persistence/onboarding/onboarding_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/column_table.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"

namespace cxp::persistence {

namespace {

using flow = onboarding_flow_row;
using invite = upstream_invite_row;

constexpr auto flow_table = make_column_table(
  col<&flow::id>("id"), col<&flow::kind>("kind"), col<&flow::purpose>("purpose"),
  col<&flow::status>("status"), col<&flow::operator_id>("operator_id"),
  col<&flow::pool_id>("pool_id"), col<&flow::target_account_id>("target_account_id"),
  col<&flow::invite_id>("invite_id"), col<&flow::state_hash>("state_hash"),
  col<&flow::redirect_uri>("redirect_uri"), col<&flow::sealed_secret>("sealed_secret"),
  col<&flow::poll_interval_s>("poll_interval_s"), col<&flow::next_poll_at>("next_poll_at"),
  col<&flow::poll_claimed_until>("poll_claimed_until"), col<&flow::error_code>("error_code"),
  col<&flow::account_id>("account_id"), col<&flow::expires_at>("expires_at"),
  col<&flow::created_at>("created_at"), col<&flow::updated_at>("updated_at"));
const std::string flow_columns = flow_table.select_list();

constexpr auto invite_table = make_column_table(
  col<&invite::id>("id"), col<&invite::pool_id>("pool_id"), col<&invite::email>("email"),
  col<&invite::token_hash>("token_hash"), col<&invite::status>("status"),
  col<&invite::created_by>("created_by"), col<&invite::account_id>("account_id"),
  col<&invite::expires_at>("expires_at"), col<&invite::created_at>("created_at"),
  col<&invite::updated_at>("updated_at"), col<&invite::accepted_at>("accepted_at"),
  col<&invite::revoked_at>("revoked_at"));
const std::string invite_columns = invite_table.select_list();

std::vector<flow> flows_where(soci::session& sql, const std::string& where,
                              const std::vector<std::string>& values) {
  return select_rows(sql, "SELECT " + flow_columns + " FROM upstream_onboarding_flows " + where,
                     values, [](const soci::row& row) { return flow_table.read(row); });
}

std::optional<flow> first_flow(soci::session& sql, const std::string& where,
                               const std::vector<std::string>& values) {
  auto rows = flows_where(sql, where, values);
  return rows.empty() ? std::nullopt : std::optional<flow>{std::move(rows.front())};
}

std::vector<invite> invites_where(soci::session& sql, const std::string& where,
                                  const std::vector<std::string>& values) {
  return select_rows(sql, "SELECT " + invite_columns + " FROM upstream_invites " + where, values,
                     [](const soci::row& row) { return invite_table.read(row); });
}

} // namespace

void onboarding_repository::insert_flow_in(unit_of_work& work, const onboarding_flow_row& row) {
  insert_row(work.session(), "upstream_onboarding_flows", flow_table, row);
}

std::optional<onboarding_flow_row> onboarding_repository::find_flow_in(unit_of_work& work,
                                                                       const std::string& id) {
  return first_flow(work.session(), "WHERE id = :p0", {id});
}

std::optional<onboarding_flow_row>
onboarding_repository::find_flow_by_state_in(unit_of_work& work, const std::string& state_hash) {
  return first_flow(work.session(), "WHERE state_hash = :p0", {state_hash});
}

std::optional<onboarding_flow_row>
onboarding_repository::latest_flow_of_invite_in(unit_of_work& work, const std::string& invite_id) {
  return first_flow(work.session(),
                    "WHERE invite_id = :p0 ORDER BY created_at DESC, id DESC LIMIT 1", {invite_id});
}

long long onboarding_repository::supersede_pending_in(unit_of_work& work,
                                                      const std::optional<std::string>& operator_id,
                                                      const std::string& now) {
  if (operator_id) {
    return execute_bound(work.session(),
                         "UPDATE upstream_onboarding_flows SET status = 'superseded', "
                         "error_code = 'stale_flow', updated_at = :p0 "
                         "WHERE operator_id = :p1 AND status = 'pending' AND invite_id IS NULL",
                         {now, *operator_id});
  }
  return execute_bound(work.session(),
                       "UPDATE upstream_onboarding_flows SET status = 'superseded', "
                       "error_code = 'stale_flow', updated_at = :p0 "
                       "WHERE operator_id IS NULL AND status = 'pending' AND invite_id IS NULL",
                       {now});
}

bool onboarding_repository::transition_in(unit_of_work& work, const std::string& id,
                                          const std::string& from, const std::string& to,
                                          const std::string& now,
                                          const std::optional<std::string>& error_code,
                                          const std::optional<std::string>& account_id) {
  return execute_bound(work.session(),
                       "UPDATE upstream_onboarding_flows SET status = :p0, updated_at = :p1, "
                       "error_code = COALESCE(NULLIF(:p2, ''), error_code), "
                       "account_id = COALESCE(NULLIF(:p3, ''), account_id), "
                       "poll_claimed_until = NULL "
                       "WHERE id = :p4 AND status = :p5",
                       {to, now, error_code.value_or(""), account_id.value_or(""), id, from})
         == 1;
}

std::vector<onboarding_flow_row>
onboarding_repository::claim_due_polls(database& db, const std::string& now,
                                       const std::string& claim_until, int limit) {
  auto claimed = db.run([&](soci::session& sql) {
    auto due = flows_where(sql,
                           "WHERE status = 'pending' AND kind = 'device' AND next_poll_at <= :p0 "
                           "AND (poll_claimed_until IS NULL OR poll_claimed_until < :p1) "
                           "ORDER BY next_poll_at LIMIT "
                             + std::to_string(limit),
                           {now, now});
    std::vector<onboarding_flow_row> mine;
    for (auto& row : due) {
      const auto won =
        execute_bound(sql,
                      "UPDATE upstream_onboarding_flows SET poll_claimed_until = :p0 "
                      "WHERE id = :p1 AND status = 'pending' AND "
                      "(poll_claimed_until IS NULL OR poll_claimed_until < :p2)",
                      {claim_until, row.id, now});
      if (won == 1) {
        mine.push_back(std::move(row));
      }
    }
    return mine;
  });
  return claimed ? std::move(*claimed) : std::vector<onboarding_flow_row>{};
}

void onboarding_repository::reschedule_poll_in(unit_of_work& work, const std::string& id,
                                               int64_t interval_s, const std::string& next_poll_at,
                                               const std::string& now) {
  execute_bound(work.session(),
                "UPDATE upstream_onboarding_flows SET poll_interval_s = :p0, next_poll_at = :p1, "
                "poll_claimed_until = NULL, updated_at = :p2 WHERE id = :p3 AND status = 'pending'",
                {std::to_string(interval_s), next_poll_at, now, id});
}

std::optional<std::string>
onboarding_repository::active_operator_role_in(unit_of_work& work, const std::string& operator_id) {
  auto roles =
    select_rows(work.session(), "SELECT role FROM operators WHERE id = :p0 AND status = 'active'",
                {operator_id}, [](const soci::row& row) { return row.get<std::string>(0); });
  return roles.empty() ? std::nullopt : std::optional<std::string>{roles.front()};
}

void onboarding_repository::insert_invite_in(unit_of_work& work, const upstream_invite_row& row) {
  insert_row(work.session(), "upstream_invites", invite_table, row);
}

std::optional<upstream_invite_row> onboarding_repository::find_invite_in(unit_of_work& work,
                                                                         const std::string& id) {
  auto rows = invites_where(work.session(), "WHERE id = :p0", {id});
  return rows.empty() ? std::nullopt : std::optional<invite>{std::move(rows.front())};
}

std::optional<upstream_invite_row>
onboarding_repository::find_invite_by_token_hash_in(unit_of_work& work,
                                                    const std::string& token_hash) {
  auto rows = invites_where(work.session(), "WHERE token_hash = :p0", {token_hash});
  return rows.empty() ? std::nullopt : std::optional<invite>{std::move(rows.front())};
}

std::vector<upstream_invite_row>
onboarding_repository::list_invites_in(unit_of_work& work,
                                       const std::optional<std::string>& pool_id, int limit) {
  const auto order = " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(limit);
  if (pool_id) {
    return invites_where(work.session(), "WHERE pool_id = :p0" + order, {*pool_id});
  }
  return invites_where(work.session(), order, {});
}

void onboarding_repository::expire_active_in(unit_of_work& work, const std::string& pool_id,
                                             const std::string& email, const std::string& now) {
  execute_bound(work.session(),
                "UPDATE upstream_invites SET status = 'expired', updated_at = :p0 "
                "WHERE pool_id = :p1 AND lower(email) = :p2 AND status = 'active' "
                "AND expires_at <= :p3",
                {now, pool_id, email, now});
}

bool onboarding_repository::set_invite_status_in(unit_of_work& work, const std::string& id,
                                                 const std::string& from, const std::string& to,
                                                 const std::string& now,
                                                 const std::optional<std::string>& account_id) {
  std::string query = "UPDATE upstream_invites SET status = :p0, updated_at = :p1";
  std::vector<std::string> values{to, now};
  if (to == "accepted" || to == "revoked") {
    query += to == "accepted" ? ", accepted_at = :p2" : ", revoked_at = :p2";
    values.push_back(now);
  }
  const auto next = values.size();
  query += ", account_id = COALESCE(NULLIF(:p" + std::to_string(next) + ", ''), account_id)"
           + " WHERE id = :p" + std::to_string(next + 1) + " AND status = :p"
           + std::to_string(next + 2);
  values.insert(values.end(), {account_id.value_or(""), id, from});
  return execute_bound(work.session(), query, values) == 1;
}

} // namespace cxp::persistence
