#include "domain/mcp/mcp_tools.hpp"

#include <functional>
#include <map>

#include "common/errc.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/audit/audit_service.hpp"
#include "domain/jobs/job_service.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/mcp/mcp_privacy.hpp"
#include "domain/mcp/mcp_quota_view.hpp"
#include "domain/mcp/mcp_selector.hpp"
#include "domain/mcp/mcp_tool_input.hpp"
#include "domain/operators/invite_service.hpp"
#include "domain/operators/operator_service.hpp"
#include "domain/pools/pool_service.hpp"
#include "domain/pools/pool_usage_service.hpp"
#include "domain/request_logs/request_log_service.hpp"
#include "domain/settings/settings_service.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

/// How many items a selector searches at most (it reads whole lists page by page).
constexpr size_t max_selectable = 2'000;
constexpr const char* server_name = "codex-pooler";

/// A failure the agent should read as the tool's answer rather than a protocol error.
struct tool_refusal {
  json structured;
};

/// What one call needs; handlers return the structured result, a refusal, or a real error.
struct tool_call {
  service_context& context;
  const principal& who;
  const mcp_tool_input& input;
  const mcp_server_facts& facts;
};

using tool_outcome = caf::expected<json>;

json items_of(json items, std::optional<std::string> next_cursor = std::nullopt) {
  json out = {{"count", items.size()}, {"items", std::move(items)}};
  if (next_cursor) {
    out["next_cursor"] = *next_cursor;
  }
  return out;
}

template <class T>
json rendered(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& item : items) {
    out.push_back(to_json(item));
  }
  return out;
}

/// Reads every page of a keyset-paginated listing (up to `max_selectable` items).
template <class Page, class Fetch>
caf::expected<decltype(Page::items)> every_page(Fetch fetch) {
  decltype(Page::items) all;
  page_request page;
  page.limit = page_request::max_limit;
  while (all.size() < max_selectable) {
    caf::expected<Page> next = fetch(page);
    if (!next) {
      return next.error();
    }
    all.insert(all.end(), next->items.begin(), next->items.end());
    if (!next->next_cursor) {
      break;
    }
    page.cursor = next->next_cursor;
  }
  return all;
}

/// The refusal for an unresolved selector: not found, or ambiguous with its candidates.
template <class T>
caf::error unresolved(const selection& picked, const std::vector<T>& items, std::string what) {
  if (picked.candidates.empty()) {
    return make_error(errc::not_found, "no " + what + " matches the selector");
  }
  json candidates = json::array();
  for (auto index : picked.candidates) {
    candidates.push_back(to_json(items[index]));
  }
  return make_error(errc::conflict, json{{"ambiguous", true},
                                         {"message", "the selector matches several " + what
                                                       + "s; use one of these ids"},
                                         {"candidates", candidates}}
                                      .dump());
}

caf::expected<pool_view> resolve_pool(const tool_call& call, const std::string& selector) {
  auto pools = every_page<pool_page>([&](const page_request& page) {
    return pool_service{call.context}.list(call.who, {{}, {}, page});
  });
  if (!pools) {
    return pools.error();
  }
  auto picked = select_one(*pools, selector, [](const pool_view& pool) {
    return std::vector<std::string>{pool.id, pool.slug, pool.name};
  });
  if (!picked.match) {
    return unresolved(picked, *pools, "pool");
  }
  return (*pools)[*picked.match];
}

/// The pool id named by the optional `pool_selector` argument.
caf::expected<std::optional<std::string>> pool_filter_of(const tool_call& call) {
  auto selector = call.input.text("pool_selector");
  if (!selector) {
    return std::optional<std::string>{};
  }
  auto pool = resolve_pool(call, *selector);
  if (!pool) {
    return pool.error();
  }
  return std::optional<std::string>{pool->id};
}

caf::expected<std::vector<account_view>> visible_accounts(const tool_call& call,
                                                          std::optional<std::string> pool_id,
                                                          std::optional<std::string> status,
                                                          std::optional<std::string> search) {
  return every_page<account_page>([&](const page_request& page) {
    return account_service{call.context}.list(call.who, {pool_id, status, search, page});
  });
}

caf::expected<account_view> resolve_account(const tool_call& call, const std::string& selector) {
  auto accounts = visible_accounts(call, {}, {}, {});
  if (!accounts) {
    return accounts.error();
  }
  auto picked = select_one(*accounts, selector, [](const account_view& account) {
    return std::vector<std::string>{account.id, account.label.value_or(""),
                                    account.email.value_or("")};
  });
  if (!picked.match) {
    return unresolved(picked, *accounts, "upstream account");
  }
  return (*accounts)[*picked.match];
}

caf::expected<json> quota_of(const tool_call& call, const account_view& account) {
  auto windows = persistence::routing_repository{call.context.db}.quota_windows(account.id);
  if (!windows) {
    return windows.error();
  }
  return quota_view(account, *windows, call.context.clock.now());
}

bool contains_folded(const std::string& text, const std::string& part) {
  return detail::folded(text).find(detail::folded(part)) != std::string::npos;
}

tool_outcome service_status(const tool_call& call) {
  auto me = operator_service{call.context}.get(call.who, call.who.operator_id);
  if (!me) {
    return me.error();
  }
  auto pools = every_page<pool_page>([&](const page_request& page) {
    return pool_service{call.context}.list(call.who, {{}, {}, page});
  });
  if (!pools) {
    return pools.error();
  }
  return json{{"server", server_name},
              {"version", call.facts.version},
              {"protocol_version", call.facts.protocol_version},
              {"gates", {{"instance_enabled", true}, {"operator_enabled", true}}},
              {"operator",
               {{"id", me->id}, {"email", me->email}, {"role", me->role}, {"status", me->status}}},
              {"visible_pool_count", pools->size()},
              {"read_only", true}};
}

tool_outcome list_pools(const tool_call& call) {
  page_request page;
  page.limit = *call.input.integer("limit");
  auto pools = pool_service{call.context}.list(
    call.who, {call.input.text("status"), call.input.text("query"), page});
  if (!pools) {
    return pools.error();
  }
  return items_of(rendered(pools->items), pools->next_cursor);
}

tool_outcome get_pool(const tool_call& call) {
  auto pool = resolve_pool(call, *call.input.text("selector"));
  if (!pool) {
    return pool.error();
  }
  auto accounts = visible_accounts(call, pool->id, {}, {});
  if (!accounts) {
    return accounts.error();
  }
  std::map<std::string, int> by_state;
  for (const auto& account : *accounts) {
    ++by_state[account.status];
  }
  auto keys = every_page<api_key_page>([&](const page_request& page) {
    return api_key_service{call.context}.list(call.who, {pool->id, {}, page});
  });
  if (!keys) {
    return keys.error();
  }
  std::map<std::string, int> keys_by_status;
  for (const auto& key : *keys) {
    ++keys_by_status[key.status];
  }
  return json{{"pool", to_json(*pool)},
              {"accounts_by_status", by_state},
              {"account_count", accounts->size()},
              {"api_keys_by_status", keys_by_status}};
}

tool_outcome list_upstreams(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  page_request page;
  page.limit = *call.input.integer("limit");
  auto accounts = account_service{call.context}.list(
    call.who, {*pool_id, call.input.text("status"), call.input.text("query"), page});
  if (!accounts) {
    return accounts.error();
  }
  return items_of(rendered(accounts->items), accounts->next_cursor);
}

tool_outcome get_upstream(const tool_call& call) {
  auto account = resolve_account(call, *call.input.text("selector"));
  if (!account) {
    return account.error();
  }
  auto quota = quota_of(call, *account);
  if (!quota) {
    return quota.error();
  }
  return json{{"account", to_json(*account)}, {"quota", *quota}};
}

caf::expected<std::vector<api_key_view>> visible_keys(const tool_call& call,
                                                      std::optional<std::string> pool_id,
                                                      std::optional<std::string> status) {
  return every_page<api_key_page>([&](const page_request& page) {
    return api_key_service{call.context}.list(call.who, {pool_id, status, page});
  });
}

tool_outcome list_api_keys(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  auto keys = visible_keys(call, *pool_id, call.input.text("status"));
  if (!keys) {
    return keys.error();
  }
  const auto query = call.input.text("query");
  const auto limit = static_cast<size_t>(*call.input.integer("limit"));
  json items = json::array();
  for (const auto& key : *keys) {
    if (items.size() < limit
        && (!query || contains_folded(key.display_name, *query)
            || contains_folded(key.key_prefix, *query))) {
      items.push_back(to_json(key));
    }
  }
  return items_of(std::move(items));
}

tool_outcome get_api_key(const tool_call& call) {
  auto keys = visible_keys(call, {}, {});
  if (!keys) {
    return keys.error();
  }
  auto picked = select_one(*keys, *call.input.text("selector"), [](const api_key_view& key) {
    return std::vector<std::string>{key.id, key.key_prefix, key.display_name};
  });
  if (!picked.match) {
    return unresolved(picked, *keys, "Pool API key");
  }
  return json{{"api_key", to_json((*keys)[*picked.match])}};
}

tool_outcome list_quotas(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  auto accounts = visible_accounts(call, *pool_id, call.input.text("status"), {});
  if (!accounts) {
    return accounts.error();
  }
  const auto plan = call.input.text("plan_type");
  const auto freshness = call.input.text("freshness_status");
  const auto usable = call.input.flag("routing_usable");
  const auto offset = static_cast<size_t>(call.input.integer("offset").value_or(0));
  const auto limit = static_cast<size_t>(*call.input.integer("limit"));
  json items = json::array();
  size_t matched = 0;
  for (const auto& account : *accounts) {
    if (plan && account.plan_type.value_or("") != *plan) {
      continue;
    }
    auto quota = quota_of(call, account);
    if (!quota) {
      return quota.error();
    }
    if ((freshness && (*quota)["freshness_status"] != *freshness)
        || (usable && (*quota)["routing_usable"] != *usable)) {
      continue;
    }
    if (matched++ >= offset && items.size() < limit) {
      items.push_back(std::move(*quota));
    }
  }
  auto out = items_of(std::move(items));
  out["total"] = matched;
  return out;
}

tool_outcome get_quota(const tool_call& call) {
  auto account = resolve_account(call, *call.input.text("selector"));
  if (!account) {
    return account.error();
  }
  return quota_of(call, *account);
}

caf::expected<std::vector<operator_view>> visible_operators(const tool_call& call) {
  return operator_service{call.context}.list(call.who);
}

tool_outcome list_operators(const tool_call& call) {
  auto operators = visible_operators(call);
  if (!operators) {
    return operators.error();
  }
  const auto status = call.input.text("status");
  const auto query = call.input.text("query");
  const auto limit = static_cast<size_t>(*call.input.integer("limit"));
  json items = json::array();
  for (const auto& op : *operators) {
    if ((!status || op.status == *status)
        && (!query || contains_folded(op.display_name, *query) || contains_folded(op.email, *query))
        && items.size() < limit) {
      items.push_back(to_json(op));
    }
  }
  return items_of(std::move(items));
}

tool_outcome get_operator(const tool_call& call) {
  auto operators = visible_operators(call);
  if (!operators) {
    return operators.error();
  }
  auto picked = select_one(*operators, *call.input.text("selector"), [](const operator_view& op) {
    return std::vector<std::string>{op.id, op.email, op.display_name};
  });
  if (!picked.match) {
    return unresolved(picked, *operators, "operator");
  }
  return json{{"operator", to_json((*operators)[*picked.match])}};
}

tool_outcome list_invites(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  auto invites = invite_service{call.context}.list_invites(call.who);
  if (!invites) {
    return invites.error();
  }
  const auto status = call.input.text("status");
  const auto email = call.input.text("email");
  const auto limit = static_cast<size_t>(*call.input.integer("limit"));
  json items = json::array();
  for (const auto& invite : *invites) {
    const bool in_pool = !*pool_id
                         || std::find(invite.pool_ids.begin(), invite.pool_ids.end(), **pool_id)
                              != invite.pool_ids.end();
    if ((!status || invite.status == *status) && (!email || contains_folded(invite.email, *email))
        && in_pool && items.size() < limit) {
      items.push_back(to_json(invite));
    }
  }
  return items_of(std::move(items));
}

tool_outcome get_invite(const tool_call& call) {
  auto invites = invite_service{call.context}.list_invites(call.who);
  if (!invites) {
    return invites.error();
  }
  auto picked = select_one(*invites, *call.input.text("selector"), [](const invite_view& invite) {
    return std::vector<std::string>{invite.id, invite.email};
  });
  if (!picked.match) {
    return unresolved(picked, *invites, "invite");
  }
  return json{{"invite", to_json((*invites)[*picked.match])}};
}

tool_outcome list_request_logs(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  request_log_query query;
  query.pool_id = *pool_id;
  query.api_key_id = call.input.text("api_key_id");
  query.account_id = call.input.text("account_id");
  query.model = call.input.text("model");
  query.outcome = call.input.text("outcome");
  query.status_code = call.input.text("status_code");
  query.from = call.input.text("date_from");
  query.to = call.input.text("date_to");
  query.page.limit = *call.input.integer("limit");
  query.page.cursor = call.input.text("cursor");
  return request_log_service{call.context}.list(call.who, query);
}

tool_outcome get_request_log(const tool_call& call) {
  auto log = request_log_service{call.context}.get(call.who, *call.input.text("id"));
  if (!log) {
    return log.error();
  }
  return json{{"request_log", *log}};
}

tool_outcome list_audit_logs(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  audit_query query;
  query.pool_id = *pool_id;
  query.action = call.input.text("action");
  query.actor_id = call.input.text("actor_id");
  query.outcome = call.input.text("outcome");
  query.page.limit = *call.input.integer("limit");
  query.page.cursor = call.input.text("cursor");
  return audit_service{call.context}.list(call.who, query);
}

tool_outcome get_audit_log(const tool_call& call) {
  auto event = audit_service{call.context}.get(call.who, *call.input.text("id"));
  if (!event) {
    return event.error();
  }
  return json{{"audit_event", *event}};
}

tool_outcome list_jobs(const tool_call& call) {
  job_query query;
  query.kind = call.input.text("kind");
  query.state = call.input.text("state");
  query.page.limit = *call.input.integer("limit");
  auto jobs = job_service{call.context}.list(call.who, query);
  if (!jobs) {
    return jobs.error();
  }
  return items_of(rendered(jobs->items), jobs->next_cursor);
}

tool_outcome pool_usage(const tool_call& call) {
  auto pool_id = pool_filter_of(call);
  if (!pool_id) {
    return pool_id.error();
  }
  auto report = pool_usage_service{call.context}.usage(
    call.who, {*pool_id, call.input.text("date_from"), call.input.text("date_to")});
  if (!report) {
    return report.error();
  }
  return to_json(*report);
}

tool_outcome list_settings(const tool_call& call) {
  auto settings = settings_service{call.context}.list(call.who);
  if (!settings) {
    return settings.error();
  }
  return items_of(*settings);
}

const std::map<std::string, std::function<tool_outcome(const tool_call&)>, std::less<>>&
handlers() {
  static const std::map<std::string, std::function<tool_outcome(const tool_call&)>, std::less<>>
    table = {
      {"codex_pooler_get_mcp_service_status", service_status},
      {"codex_pooler_list_pools", list_pools},
      {"codex_pooler_get_pool", get_pool},
      {"codex_pooler_list_upstreams", list_upstreams},
      {"codex_pooler_get_upstream", get_upstream},
      {"codex_pooler_list_pool_api_keys", list_api_keys},
      {"codex_pooler_get_pool_api_key", get_api_key},
      {"codex_pooler_list_upstream_quotas", list_quotas},
      {"codex_pooler_get_upstream_quota", get_quota},
      {"codex_pooler_list_operators", list_operators},
      {"codex_pooler_get_operator", get_operator},
      {"codex_pooler_list_invites", list_invites},
      {"codex_pooler_get_invite", get_invite},
      {"codex_pooler_list_request_logs", list_request_logs},
      {"codex_pooler_get_request_log", get_request_log},
      {"codex_pooler_list_audit_logs", list_audit_logs},
      {"codex_pooler_get_audit_log", get_audit_log},
      {"codex_pooler_list_jobs", list_jobs},
      {"codex_pooler_get_pool_usage", pool_usage},
      {"codex_pooler_list_settings", list_settings},
    };
  return table;
}

mcp_tool_result refusal(const std::string& title, json structured) {
  auto text = title + " failed: " + structured.value("message", std::string{"refused"});
  return {std::move(structured), std::move(text), true};
}

/// A service error the agent can act on becomes the tool's answer; anything else (the database
/// is down) stays an error for the protocol layer.
caf::expected<mcp_tool_result> refusal_of(const mcp_tool_spec& tool, const caf::error& error) {
  const auto code = to_errc(error);
  switch (code) {
  case errc::conflict: {
    auto detail = json::parse(context_of(error), nullptr, false);
    if (!detail.is_discarded() && detail.is_object() && detail.contains("candidates")) {
      detail["error"] = "ambiguous_selector";
      return refusal(tool.title, sanitize_for_mcp(detail));
    }
    return refusal(tool.title, {{"error", "conflict"}, {"message", "the request conflicts"}});
  }
  case errc::not_found:
    // A fixed text: an error's context is internal (it is logged, never rendered).
    return refusal(tool.title,
                   {{"error", "not_found"}, {"message", "nothing this operator may see matches"}});
  case errc::forbidden:
    return refusal(tool.title,
                   {{"error", "forbidden"}, {"message", "this operator may not see that"}});
  case errc::validation_failed: {
    std::string message;
    for (const auto& [field, problem] : field_errors_of(error)) {
      message += (message.empty() ? "" : "; ") + field + " " + problem;
    }
    return refusal(tool.title, {{"error", "invalid_arguments"}, {"message", message}});
  }
  default:
    return error;
  }
}

} // namespace

caf::expected<mcp_tool_result> call_mcp_tool(service_context& context, const principal& who,
                                             std::string_view name, const json& arguments,
                                             const mcp_server_facts& facts) {
  const auto* tool = find_mcp_tool(name);
  if (tool == nullptr || (tool->owner_only && !who.is_owner())) {
    return make_error(errc::not_found, "unknown tool");
  }
  const mcp_tool_input input{arguments, tool->input_schema};
  if (!input.problems().empty()) {
    std::string message;
    for (const auto& problem : input.problems()) {
      message += (message.empty() ? "" : "; ") + problem;
    }
    return refusal(tool->title, {{"error", "invalid_arguments"}, {"message", message}});
  }
  auto handler = handlers().find(name);
  auto structured = handler->second(tool_call{context, who, input, facts});
  if (!structured) {
    return refusal_of(*tool, structured.error());
  }
  auto safe = sanitize_for_mcp(*structured);
  auto text = tool->title + ":\n" + safe.dump(2);
  return mcp_tool_result{std::move(safe), std::move(text), false};
}

} // namespace cxp::domain
