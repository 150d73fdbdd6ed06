#include "domain/accounts/account_service.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "domain/accounts/account_tokens.hpp"
#include "domain/accounts/auth_json.hpp"
#include "domain/admin_input.hpp"
#include "domain/jobs/job_schedule.hpp"
#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/accounts/account_repository.hpp"
#include "persistence/jobs/job_repository.hpp"

namespace cxp::domain {

using namespace detail;

namespace {

/// What a pool serves changes with its accounts: a change queues a catalog sync of each of
/// `pool_ids` at once, in the change's transaction (a sync already waiting is enough).
void sync_catalogs_of(persistence::unit_of_work& sql, const service_context& context,
                      const principal& who, const std::vector<std::string>& pool_ids) {
  const auto now = context.clock.now();
  const auto by = who.operator_id.empty() ? who.actor_type() : who.operator_id;
  for (const auto& pool_id : pool_ids) {
    auto job = manual_job(job_kind::catalog_sync, pool_id, now, by, {});
    job.origin = "account_change";
    persistence::job_repository::enqueue_in(sql, job, now);
  }
}

using persistence::account_repository;
using persistence::account_row;

constexpr size_t max_label_bytes = 200;
constexpr size_t max_search_bytes = 200;
constexpr size_t max_pool_ids = 100;
constexpr std::array<std::string_view, 5> statuses{"active", "refreshing", "reauth_required",
                                                   "paused", "disabled"};

bool is_admin(const principal& who) {
  return who.type == principal::kind::operator_session && who.role == "instance_admin";
}

bool can_see(const principal& who, const std::vector<std::string>& pool_ids) {
  if (who.is_owner()) {
    return true;
  }
  return is_admin(who) && std::any_of(pool_ids.begin(), pool_ids.end(), [&](const auto& pool) {
           return who.can_manage_pool(pool);
         });
}

std::vector<std::string> visible_pools(const principal& who, std::vector<std::string> pool_ids) {
  if (!who.is_owner()) {
    pool_ids.erase(std::remove_if(pool_ids.begin(), pool_ids.end(),
                                  [&](const auto& pool) { return !who.can_manage_pool(pool); }),
                   pool_ids.end());
  }
  return pool_ids;
}

account_view to_view(const principal& who, account_row row, std::vector<std::string> pool_ids) {
  account_view view;
  view.id = std::move(row.id);
  view.chatgpt_account_id = std::move(row.chatgpt_account_id);
  view.chatgpt_user_id = std::move(row.chatgpt_user_id);
  view.email = std::move(row.email);
  view.label = std::move(row.label);
  view.plan_type = std::move(row.plan_type);
  view.status = std::move(row.status);
  view.onboarding_method = std::move(row.onboarding_method);
  view.secret_key_version = std::move(row.secret_key_version);
  view.access_token_expires_at = std::move(row.access_token_expires_at);
  view.last_refresh_at = std::move(row.last_refresh_at);
  view.pool_ids = visible_pools(who, std::move(pool_ids));
  view.created_at = std::move(row.created_at);
  view.updated_at = std::move(row.updated_at);
  return view;
}

caf::expected<account_view> view_in(persistence::unit_of_work& sql, const principal& who,
                                    const std::string& id) {
  auto row = account_repository::find_in(sql, id);
  if (!row) {
    return make_error(errc::not_found, "upstream account not found");
  }
  return to_view(who, std::move(*row), account_repository::pool_ids_in(sql, id));
}

/// The row, when it exists and `who` may see it.
caf::expected<account_row> visible_row_in(persistence::unit_of_work& sql, const principal& who,
                                          const std::string& id,
                                          std::vector<std::string>& pool_ids) {
  auto row = is_uuid(id) ? account_repository::find_in(sql, id) : std::nullopt;
  if (!row) {
    return make_error(errc::not_found, "upstream account not found");
  }
  pool_ids = account_repository::pool_ids_in(sql, id);
  if (!can_see(who, pool_ids)) {
    return make_error(errc::forbidden, "upstream account outside the operator's pools");
  }
  return std::move(*row);
}

/// The pool an audit event is filed under, so the admins of that pool see it.
std::optional<std::string> audit_pool(const principal& who,
                                      const std::vector<std::string>& pool_ids) {
  auto visible = visible_pools(who, pool_ids);
  if (visible.empty()) {
    return std::nullopt;
  }
  return visible.front();
}

std::optional<caf::error> validate_label(std::optional<std::string>& label) {
  if (label && label->empty()) {
    label.reset();
  }
  if (label && label->size() > max_label_bytes) {
    return make_validation_error({{"label", "must be at most 200 bytes"}});
  }
  if (auto problem = label ? display_text_problem(*label) : std::nullopt) {
    return make_validation_error({{"label", *problem}});
  }
  return std::nullopt;
}

caf::expected<std::vector<std::string>>
normalized_pool_ids(const std::vector<std::string>& pool_ids) {
  if (pool_ids.size() > max_pool_ids) {
    return make_validation_error({{"pool_ids", "must list at most 100 pools"}});
  }
  std::vector<std::string> unique;
  for (const auto& pool : pool_ids) {
    if (pool.empty()) {
      return make_validation_error({{"pool_ids", "must not contain an empty id"}});
    }
    if (std::find(unique.begin(), unique.end(), pool) == unique.end()) {
      unique.push_back(pool);
    }
  }
  return unique;
}

std::string encode_cursor(const account_view& last) {
  return to_base64url(last.created_at + "|" + last.id);
}

std::optional<persistence::account_cursor> decode_cursor(const std::string& cursor) {
  const auto text = from_base64(cursor);
  if (!text) {
    return std::nullopt;
  }
  const auto bar = text->find('|');
  if (bar == std::string::npos || !parse_iso8601(text->substr(0, bar))
      || !is_uuid(text->substr(bar + 1))) {
    return std::nullopt;
  }
  return persistence::account_cursor{text->substr(0, bar), text->substr(bar + 1)};
}

/// A message for a failed bulk item that is safe to print: field messages are vetted, and
/// internal contexts are never rendered.
std::string safe_message(const caf::error& error) {
  const auto fields = field_errors_of(error);
  if (!fields.empty()) {
    std::string message;
    for (const auto& [field, text] : fields) {
      message += (message.empty() ? "" : "; ") + field + ": " + text;
    }
    return message;
  }
  switch (to_errc(error)) {
  case errc::forbidden:
    return "only an instance owner may import accounts";
  case errc::not_found:
    return "a pool in pool_ids does not exist";
  case errc::conflict:
    return "the account changed concurrently; retry";
  case errc::database_unavailable:
    return "the database is unavailable";
  default:
    return "the import failed";
  }
}

} // namespace

nlohmann::json to_json(const account_view& view) {
  auto optional = [](const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  return {{"id", view.id},
          {"chatgpt_account_id", view.chatgpt_account_id},
          {"chatgpt_user_id", optional(view.chatgpt_user_id)},
          {"email", optional(view.email)},
          {"label", optional(view.label)},
          {"plan_type", optional(view.plan_type)},
          {"status", view.status},
          {"onboarding_method", view.onboarding_method},
          {"secret_key_version", view.secret_key_version},
          {"access_token_expires_at", optional(view.access_token_expires_at)},
          {"last_refresh_at", optional(view.last_refresh_at)},
          {"pool_ids", view.pool_ids},
          {"created_at", view.created_at},
          {"updated_at", view.updated_at}};
}

nlohmann::json to_json(const import_result& result) {
  return {{"account", to_json(result.account)}, {"created", result.created}};
}

nlohmann::json to_json(const bulk_item_result& result) {
  nlohmann::json out{{"source", result.source}, {"account", nullptr}, {"error", nullptr}};
  if (result.account) {
    out["account"] = to_json(*result.account);
  }
  if (result.error_code) {
    out["error"] = {{"code", *result.error_code}, {"message", result.error_message.value_or("")}};
  }
  return out;
}

nlohmann::json to_json(const account_page& page) {
  auto items = nlohmann::json::array();
  for (const auto& item : page.items) {
    items.push_back(to_json(item));
  }
  return {{"items", std::move(items)},
          {"next_cursor",
           page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json(nullptr)}};
}

caf::expected<import_result> account_service::import_auth_json(const principal& who,
                                                               const import_request& request) {
  if (!who.is_owner()) {
    return owner_only("importing upstream accounts");
  }
  auto parsed = parse_auth_json(request.auth_json_text);
  if (!parsed) {
    return parsed.error();
  }
  auto label = request.label;
  if (auto invalid = validate_label(label)) {
    return std::move(*invalid);
  }
  auto pool_ids = normalized_pool_ids(request.pool_ids);
  if (!pool_ids) {
    return pool_ids.error();
  }
  const auto now = to_iso8601(context_.clock.now());
  auto attempt = [&]() -> caf::expected<import_result> {
    return context_.db.transact(
      [&](persistence::unit_of_work& sql) -> caf::expected<import_result> {
        for (const auto& pool : *pool_ids) {
          if (!account_repository::pool_exists_in(sql, pool)) {
            return make_error(errc::not_found, "pool not found");
          }
        }
        auto existing = account_repository::find_by_identity_in(sql, parsed->chatgpt_account_id,
                                                                parsed->chatgpt_user_id);
        const bool created = !existing;
        account_row row = existing ? std::move(*existing) : account_row{};
        if (created) {
          row.id = new_uuid();
          row.chatgpt_account_id = parsed->chatgpt_account_id;
          row.chatgpt_user_id = parsed->chatgpt_user_id;
          row.onboarding_method = request.onboarding_method;
          row.created_at = now;
          if (!who.operator_id.empty()) {
            row.created_by = who.operator_id;
          }
        }
        auto access = seal_token(context_, parsed->access_token, row.id, access_kind);
        auto refresh = seal_token(context_, parsed->refresh_token, row.id, refresh_kind);
        if (!access || !refresh) {
          return access ? refresh.error() : access.error();
        }
        row.access_token_ciphertext = std::move(*access);
        row.refresh_token_ciphertext = std::move(*refresh);
        row.secret_key_version = context_.upstream_keys.current_version();
        row.email = parsed->email;
        row.label = label;
        row.plan_type = parsed->plan_type;
        if (created || (row.status != "paused" && row.status != "disabled")) {
          row.status = "active";
        }
        row.access_token_expires_at = iso_or_null(parsed->access_token_expires_at);
        row.last_refresh_at = iso_or_null(parsed->last_refresh);
        row.updated_at = now;
        if (created) {
          account_repository::insert_in(sql, row);
        } else if (!account_repository::update_import_in(sql, row)) {
          return make_error(errc::conflict, "upstream account deleted during import");
        }
        for (const auto& pool : *pool_ids) {
          account_repository::add_to_pool_in(sql, pool, row.id, now);
        }
        sync_catalogs_of(sql, context_, who, *pool_ids);
        record_event(sql, context_, who, "upstream_account.import", row.id,
                     pool_ids->size() == 1 ? std::optional<std::string>{pool_ids->front()}
                                           : std::nullopt,
                     {{"created", created},
                      {"chatgpt_account_id", row.chatgpt_account_id},
                      {"pool_ids", *pool_ids},
                      {"key_version", row.secret_key_version}});
        auto view = view_in(sql, who, row.id);
        if (!view) {
          return view.error();
        }
        sql.commit();
        return import_result{std::move(*view), created};
      });
  };
  auto result = attempt();
  // Two imports of a new identity race on the unique index; the loser retries as an update.
  if (!result && to_errc(result.error()) == errc::conflict) {
    result = attempt();
  }
  return result;
}

std::vector<bulk_item_result> account_service::import_many(
  const principal& who, const std::vector<std::pair<std::string, std::string>>& items,
  const std::vector<std::string>& pool_ids, const std::function<void(size_t, size_t)>& progress) {
  std::vector<bulk_item_result> results;
  results.reserve(items.size());
  for (const auto& [source, text] : items) {
    bulk_item_result item;
    item.source = source;
    auto imported = import_auth_json(who, import_request{text, std::nullopt, pool_ids});
    if (imported) {
      item.account = std::move(imported->account);
    } else {
      item.error_code = std::string{to_string(to_errc(imported.error()))};
      item.error_message = safe_message(imported.error());
    }
    results.push_back(std::move(item));
    if (progress) {
      progress(results.size(), items.size());
    }
  }
  return results;
}

caf::expected<account_page> account_service::list(const principal& who,
                                                  const account_filter& filter) {
  if (!who.is_owner() && !is_admin(who)) {
    return make_error(errc::forbidden, "listing upstream accounts needs an operator role");
  }
  std::map<std::string, std::string> fields;
  persistence::account_list_filter query;
  if (filter.page.limit < 1 || filter.page.limit > page_request::max_limit) {
    fields["limit"] = "must be between 1 and 200";
  }
  if (filter.status
      && std::find(statuses.begin(), statuses.end(), std::string_view{*filter.status})
           == statuses.end()) {
    fields["status"] = "must be one of active, refreshing, reauth_required, paused, disabled";
  }
  if (filter.search && filter.search->size() > max_search_bytes) {
    fields["search"] = "must be at most 200 bytes";
  }
  if (filter.page.cursor) {
    query.after = decode_cursor(*filter.page.cursor);
    if (!query.after) {
      fields["cursor"] = "is not a cursor from this listing";
    }
  }
  if (!fields.empty()) {
    return make_validation_error(std::move(fields));
  }
  if (filter.pool_id && !who.can_manage_pool(*filter.pool_id)) {
    return make_error(errc::forbidden, "pool outside the operator's scope");
  }
  query.pool_id = filter.pool_id;
  query.status = filter.status;
  if (filter.search && !filter.search->empty()) {
    query.search = filter.search;
  }
  if (!who.is_owner()) {
    query.visible_pool_ids = who.pool_ids;
  }
  query.limit = filter.page.limit + 1;
  account_repository repository{context_.db};
  auto rows = repository.list(query);
  if (!rows) {
    return rows.error();
  }
  const bool more = rows->size() > static_cast<size_t>(filter.page.limit);
  if (more) {
    rows->pop_back();
  }
  std::vector<std::string> ids;
  for (const auto& row : *rows) {
    ids.push_back(row.id);
  }
  auto pools = repository.pool_ids_of(ids);
  if (!pools) {
    return pools.error();
  }
  account_page page;
  for (auto& row : *rows) {
    auto pool_ids = (*pools)[row.id];
    page.items.push_back(to_view(who, std::move(row), std::move(pool_ids)));
  }
  if (more && !page.items.empty()) {
    page.next_cursor = encode_cursor(page.items.back());
  }
  return page;
}

caf::expected<account_view> account_service::get(const principal& who, const std::string& id) {
  return context_.db.transact([&](persistence::unit_of_work& sql) -> caf::expected<account_view> {
    std::vector<std::string> pool_ids;
    auto row = visible_row_in(sql, who, id, pool_ids);
    if (!row) {
      return row.error();
    }
    return to_view(who, std::move(*row), std::move(pool_ids));
  });
}

caf::expected<account_view> account_service::update_label(const principal& who,
                                                          const std::string& id,
                                                          std::optional<std::string> label) {
  if (auto invalid = validate_label(label)) {
    return std::move(*invalid);
  }
  return context_.db.transact([&](persistence::unit_of_work& sql) -> caf::expected<account_view> {
    std::vector<std::string> pool_ids;
    auto row = visible_row_in(sql, who, id, pool_ids);
    if (!row) {
      return row.error();
    }
    if (row->label != label) {
      account_repository::update_label_in(sql, id, label, to_iso8601(context_.clock.now()));
      record_event(sql, context_, who, "upstream_account.update", id, audit_pool(who, pool_ids),
                   {{"fields", nlohmann::json::array({"label"})}});
    }
    auto view = view_in(sql, who, id);
    sql.commit();
    return view;
  });
}

namespace {

/// Moves a visible account to `target` when its status is in `from`; `unchanged` statuses are
/// an idempotent success, anything else a conflict.
caf::expected<account_view> transition(service_context& context, const principal& who,
                                       const std::string& id, const std::string& target,
                                       const std::vector<std::string>& from,
                                       const std::vector<std::string>& unchanged,
                                       const std::string& action) {
  return context.db.transact([&](persistence::unit_of_work& sql) -> caf::expected<account_view> {
    std::vector<std::string> pool_ids;
    auto row = visible_row_in(sql, who, id, pool_ids);
    if (!row) {
      return row.error();
    }
    if (std::find(unchanged.begin(), unchanged.end(), row->status) == unchanged.end()) {
      if (!account_repository::update_status_in(sql, id, target, from,
                                                to_iso8601(context.clock.now()))) {
        return make_error(errc::conflict,
                          "upstream account is " + row->status + ", cannot become " + target);
      }
      record_event(sql, context, who, action, id, audit_pool(who, pool_ids),
                   {{"from", row->status}, {"to", target}});
      sync_catalogs_of(sql, context, who, pool_ids);
    }
    auto view = view_in(sql, who, id);
    sql.commit();
    return view;
  });
}

} // namespace

caf::expected<account_view> account_service::pause(const principal& who, const std::string& id) {
  return transition(context_, who, id, "paused", {"active", "refreshing"}, {"paused"},
                    "upstream_account.pause");
}

caf::expected<account_view> account_service::resume(const principal& who, const std::string& id) {
  return transition(context_, who, id, "active", {"paused"}, {"active", "refreshing"},
                    "upstream_account.resume");
}

caf::expected<void> account_service::remove(const principal& who, const std::string& id) {
  if (!who.is_owner()) {
    return owner_only("deleting upstream accounts");
  }
  // `database::run` discards the value of a work returning `caf::expected<void>`, so the work
  // reports through a bool.
  auto removed = context_.db.transact([&](persistence::unit_of_work& sql) -> caf::expected<bool> {
    std::vector<std::string> pool_ids;
    auto row = visible_row_in(sql, who, id, pool_ids);
    if (!row) {
      return row.error();
    }
    account_repository::remove_in(sql, id);
    record_event(sql, context_, who, "upstream_account.delete", id, audit_pool(who, pool_ids),
                 {{"chatgpt_account_id", row->chatgpt_account_id}, {"pool_ids", pool_ids}});
    sync_catalogs_of(sql, context_, who, pool_ids);
    sql.commit();
    return true;
  });
  if (!removed) {
    return removed.error();
  }
  return caf::expected<void>{};
}

namespace {

caf::expected<account_view> change_assignment(service_context& context, const principal& who,
                                              const std::string& id, const std::string& pool_id,
                                              bool add) {
  if (!who.is_owner()) {
    return owner_only("assigning upstream accounts to pools");
  }
  if (pool_id.empty()) {
    return make_validation_error({{"pool_id", "is required"}});
  }
  return context.db.transact([&](persistence::unit_of_work& sql) -> caf::expected<account_view> {
    std::vector<std::string> pool_ids;
    auto row = visible_row_in(sql, who, id, pool_ids);
    if (!row) {
      return row.error();
    }
    if (!account_repository::pool_exists_in(sql, pool_id)) {
      return make_error(errc::not_found, "pool not found");
    }
    const bool changed =
      add ? account_repository::add_to_pool_in(sql, pool_id, id, to_iso8601(context.clock.now()))
          : account_repository::remove_from_pool_in(sql, pool_id, id);
    if (changed) {
      record_event(sql, context, who, add ? "upstream_account.assign" : "upstream_account.unassign",
                   id, pool_id, nlohmann::json::object());
      sync_catalogs_of(sql, context, who, {pool_id});
    }
    auto view = view_in(sql, who, id);
    sql.commit();
    return view;
  });
}

} // namespace

caf::expected<account_view> account_service::assign(const principal& who, const std::string& id,
                                                    const std::string& pool_id) {
  return change_assignment(context_, who, id, pool_id, true);
}

caf::expected<account_view> account_service::unassign(const principal& who, const std::string& id,
                                                      const std::string& pool_id) {
  return change_assignment(context_, who, id, pool_id, false);
}

} // namespace cxp::domain
