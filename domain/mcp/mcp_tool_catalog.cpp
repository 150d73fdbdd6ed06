#include <algorithm>

#include "domain/mcp/mcp_tools.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

json text_arg(std::string description) {
  return {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}, {"description", description}};
}

json limit_arg(int max, int fallback) {
  return {{"type", "integer"},
          {"minimum", 1},
          {"maximum", max},
          {"default", fallback},
          {"description", "How many items to return (1.." + std::to_string(max) + ")."}};
}

json cursor_arg() {
  return text_arg("The next_cursor of the previous page, to read the next one.");
}

json selector_arg(std::string what) {
  return text_arg("Which one: " + std::move(what)
                  + ". An ambiguous selector returns the candidates instead.");
}

json pool_selector_arg() {
  return text_arg("Only this pool: its id or slug (a name or prefix works when unambiguous).");
}

json date_arg(std::string what) {
  return text_arg(std::move(what) + " as ISO-8601 UTC, e.g. 2026-12-01T00:00:00Z.");
}

json schema(json properties, std::vector<std::string> required = {}) {
  json out = {{"type", "object"}, {"properties", properties}, {"additionalProperties", false}};
  if (!required.empty()) {
    out["required"] = required;
  }
  return out;
}

mcp_tool_spec tool(std::string name, std::string title, std::string description, json input,
                   bool owner_only = false) {
  return {std::move(name), std::move(title), std::move(description), std::move(input), owner_only};
}

constexpr const char* never_secrets =
  " Never returns: raw Pool API keys, MCP tokens, OAuth tokens, password or TOTP data, prompts or "
  "outputs; emails and client addresses are masked.";

std::vector<mcp_tool_spec> make_catalog() {
  return {
    tool("codex_pooler_get_mcp_service_status", "MCP service status",
         std::string{"Use when: checking that this endpoint works and what this token may see. "
                     "Returns: server name and version, the negotiated protocol version, both MCP "
                     "gates, the token's operator (masked) with its role and visible pool count."}
           + never_secrets,
         schema(json::object())),
    tool("codex_pooler_list_pools", "List pools",
         std::string{"Use when: finding a pool or seeing which pools exist. Returns: id, slug, "
                     "name, status and routing settings of each visible pool (an instance admin "
                     "sees only its own pools)."}
           + never_secrets + " Filters: query (name or slug substring), status; limit up to 100.",
         schema({{"query", text_arg("A substring of the name or slug.")},
                 {"status", text_arg("active or disabled.")},
                 {"limit", limit_arg(100, 50)}})),
    tool("codex_pooler_get_pool", "Get a pool",
         std::string{"Use when: inspecting one pool. Returns: the pool, how many of its upstream "
                     "accounts are in each state, and how many Pool API keys it has by status."}
           + never_secrets,
         schema({{"selector", selector_arg("the pool's id or slug")}}, {"selector"})),
    tool("codex_pooler_list_upstreams", "List upstream accounts",
         std::string{"Use when: seeing the ChatGPT accounts behind the pools and their state "
                     "(active, refreshing, reauth_required, paused, disabled). Returns: id, "
                     "label, masked email, plan, status, token expiry, last refresh, pools."}
           + never_secrets
           + " Filters: query (label or email substring), status, pool_selector; limit up "
             "to 100.",
         schema({{"query", text_arg("A substring of the label or email.")},
                 {"status", text_arg("active, refreshing, reauth_required, paused or disabled.")},
                 {"pool_selector", pool_selector_arg()},
                 {"limit", limit_arg(100, 50)}})),
    tool("codex_pooler_get_upstream", "Get an upstream account",
         std::string{"Use when: inspecting one upstream account. Returns: the account and its "
                     "quota windows (used %, reset time, freshness, whether routing can use it)."}
           + never_secrets,
         schema({{"selector", selector_arg("the account's id, label or email")}}, {"selector"})),
    tool("codex_pooler_list_pool_api_keys", "List Pool API keys",
         std::string{"Use when: finding the keys clients use, their status, policy and last "
                     "use. Returns: id, pool, name, key prefix (sk-cxp-<12 hex>), status, "
                     "expiry, last use and policy."}
           + never_secrets
           + " Filters: query (name or prefix substring), status, pool_selector; limit up to "
             "100.",
         schema({{"query", text_arg("A substring of the key's name or prefix.")},
                 {"status", text_arg("active, paused or revoked.")},
                 {"pool_selector", pool_selector_arg()},
                 {"limit", limit_arg(100, 50)}})),
    tool("codex_pooler_get_pool_api_key", "Get a Pool API key",
         std::string{"Use when: inspecting one key. Returns: its metadata (prefix, pool, status, "
                     "expiry, last use) and policy."}
           + never_secrets,
         schema({{"selector", selector_arg("the key's id, prefix (sk-cxp-…) or name")}},
                {"selector"})),
    tool("codex_pooler_list_upstream_quotas", "List upstream quotas",
         std::string{"Use when: asking which accounts are exhausted, how much of each window is "
                     "used and when it resets. Returns: per account, status, plan, each quota "
                     "window (family, minutes, used %, reset time, observed at), freshness "
                     "(fresh, stale, missing), routing_usable and, when exhausted, "
                     "exhausted_until."}
           + never_secrets
           + " Filters: pool_selector, status, plan_type, freshness_status, routing_usable; "
             "limit up to 100, offset up to 10000.",
         schema({{"pool_selector", pool_selector_arg()},
                 {"status", text_arg("The account status.")},
                 {"plan_type", text_arg("The ChatGPT plan, e.g. plus or pro.")},
                 {"freshness_status", text_arg("fresh, stale or missing.")},
                 {"routing_usable", {{"type", "boolean"}}},
                 {"limit", limit_arg(100, 50)},
                 {"offset", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10000}}}})),
    tool("codex_pooler_get_upstream_quota", "Get an upstream account's quota",
         std::string{"Use when: checking one account's windows and resets. Returns: the same "
                     "entry as the list of upstream quotas, for one account."}
           + never_secrets,
         schema({{"selector", selector_arg("the account's id, label or email")}}, {"selector"})),
    tool("codex_pooler_list_operators", "List operators",
         std::string{"Use when: seeing who operates this instance (owners only). Returns: id, "
                     "masked email, display name, role, status, TOTP state, pools, last login."}
           + never_secrets + " Filters: status, query (name or email substring); limit up to 100.",
         schema({{"status", text_arg("active, disabled or invited.")},
                 {"query", text_arg("A substring of the display name or email.")},
                 {"limit", limit_arg(100, 50)}}),
         true),
    tool("codex_pooler_get_operator", "Get an operator",
         std::string{"Use when: inspecting one operator (owners only). Returns: its role, status, "
                     "TOTP state, pools and last login."}
           + never_secrets,
         schema({{"selector", selector_arg("the operator's id, email or display name")}},
                {"selector"}),
         true),
    tool("codex_pooler_list_invites", "List invites",
         std::string{"Use when: checking pending or past operator invites (owners only). "
                     "Returns: id, masked email, role, pools, status, expiry, acceptance."}
           + never_secrets + " Filters: status, pool_selector, email; limit up to 100.",
         schema({{"status", text_arg("active, accepted or revoked.")},
                 {"pool_selector", pool_selector_arg()},
                 {"email", text_arg("A substring of the invitee's email.")},
                 {"limit", limit_arg(100, 50)}}),
         true),
    tool("codex_pooler_get_invite", "Get an invite",
         std::string{"Use when: inspecting one invite (owners only). Returns: its role, pools, "
                     "status and expiry."}
           + never_secrets,
         schema({{"selector", selector_arg("the invite's id or email")}}, {"selector"}), true),
    tool("codex_pooler_list_request_logs", "List request logs",
         std::string{"Use when: answering why a request failed or who used what. Returns: newest "
                     "first, time, pool, key, account, model, route, status, outcome, error "
                     "code, latency, tokens and cost."}
           + never_secrets
           + " Filters: pool_selector, api_key_id, account_id, model, outcome (succeeded, "
             "failed, rejected, cancelled), status_code, date_from, date_to; limit up to 50, "
             "cursor for the next page.",
         schema({{"pool_selector", pool_selector_arg()},
                 {"api_key_id", text_arg("Only this Pool API key (id).")},
                 {"account_id", text_arg("Only this upstream account (id).")},
                 {"model", text_arg("Only this model.")},
                 {"outcome", text_arg("succeeded, failed, rejected or cancelled.")},
                 {"status_code", text_arg("An HTTP status, e.g. 429.")},
                 {"date_from", date_arg("From (inclusive)")},
                 {"date_to", date_arg("To (exclusive)")},
                 {"limit", limit_arg(50, 20)},
                 {"cursor", cursor_arg()}})),
    tool("codex_pooler_get_request_log", "Get a request log",
         std::string{"Use when: explaining one request. Returns: the request and every attempt "
                     "(account, status, error code, latency, tokens)."}
           + never_secrets,
         schema({{"id", text_arg("The request log id.")}}, {"id"})),
    tool("codex_pooler_list_audit_logs", "List audit events",
         std::string{"Use when: finding who changed what. Returns: newest first, time, actor, "
                     "action, target, pool, outcome, masked client address, details."}
           + never_secrets
           + " Filters: pool_selector, action (e.g. pool.create), actor_id, outcome; limit up to "
             "50, cursor for the next page.",
         schema({{"pool_selector", pool_selector_arg()},
                 {"action", text_arg("An action, e.g. api_key.revoke.")},
                 {"actor_id", text_arg("The acting operator's id.")},
                 {"outcome", text_arg("success or failure.")},
                 {"limit", limit_arg(50, 20)},
                 {"cursor", cursor_arg()}})),
    tool("codex_pooler_get_audit_log", "Get an audit event",
         std::string{"Use when: reading one audit event in full. Returns: the event with its "
                     "details."}
           + never_secrets,
         schema({{"id", text_arg("The audit event id.")}}, {"id"})),
    tool("codex_pooler_list_jobs", "List background jobs",
         std::string{"Use when: checking the scheduler's work (token refresh, quota "
                     "reconciliation, catalog sync, pricing import, usage rollup, retention). "
                     "Returns: newest first, kind, pool, state, attempts, times, last error, "
                     "outcome."}
           + never_secrets + " Filters: kind, state; limit up to 100.",
         schema({{"kind", text_arg("A job kind, e.g. quota_reconciliation.")},
                 {"state", text_arg("queued, running, succeeded, failed or cancelled.")},
                 {"limit", limit_arg(100, 20)}})),
    tool("codex_pooler_get_pool_usage", "Pool usage and cost",
         std::string{"Use when: asking how much a pool (or every visible pool) was used over a "
                     "period. Returns: requests, errors, tokens (input, cached, output, "
                     "reasoning) and cost in micro-USD, in total and by pool, model and hour. "
                     "Period defaults to the last 24 hours."}
           + never_secrets,
         schema({{"pool_selector", pool_selector_arg()},
                 {"date_from", date_arg("From (inclusive)")},
                 {"date_to", date_arg("To (exclusive)")}})),
    tool("codex_pooler_list_settings", "List instance settings",
         std::string{"Use when: checking how the instance is configured (owners only). Returns: "
                     "every setting with its value, default and source; a secret setting shows "
                     "only whether it is configured."}
           + never_secrets,
         schema(json::object()), true),
  };
}

} // namespace

const std::vector<mcp_tool_spec>& mcp_tool_catalog() {
  static const std::vector<mcp_tool_spec> catalog = make_catalog();
  return catalog;
}

const mcp_tool_spec* find_mcp_tool(std::string_view name) {
  const auto& catalog = mcp_tool_catalog();
  auto it = std::find_if(catalog.begin(), catalog.end(),
                         [name](const auto& spec) { return spec.name == name; });
  return it == catalog.end() ? nullptr : &*it;
}

} // namespace cxp::domain
