#include "edge/routes/codex/codex_request.hpp"

#include <algorithm>
#include <array>

#include "actors/upstream/codex_identity.hpp"
#include "common/encoding.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 16> forwarded_client_headers = {
  "session-id",
  "session_id",
  "thread-id",
  "x-client-request-id",
  "conversation_id",
  "x-codex-window-id",
  "x-codex-parent-thread-id",
  "x-codex-installation-id",
  "x-codex-turn-state",
  "x-codex-beta-features",
  "x-openai-subagent",
  "traceparent",
  "tracestate",
  "openai-beta",
  "x-codex-routing-hint",
  "x-openai-internal-codex-residency"};

constexpr std::array<std::string_view, 11> relayed_response_headers = {
  "content-type",
  "x-codex-turn-state",
  "openai-model",
  "x-openai-model",
  "x-reasoning-included",
  "x-models-etag",
  "x-codex-safety-buffering-enabled",
  "x-codex-safety-buffering-faster-model",
  "x-request-id",
  "x-oai-request-id",
  "retry-after"};

constexpr std::array<std::string_view, 6> effort_order = {"none",   "minimal", "low",
                                                          "medium", "high",    "xhigh"};

std::string header_value(const http_request& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view{name.data(), name.size()});
  return it == request.end() ? std::string{} : std::string{it->value()};
}

int effort_rank(std::string_view effort) {
  auto it = std::find(effort_order.begin(), effort_order.end(), effort);
  return it == effort_order.end() ? -1 : static_cast<int>(it - effort_order.begin());
}

/// `x-codex-turn-metadata` without `code_mode_tool_names` (client tool inventory, not needed
/// upstream); anything unparseable passes unchanged.
std::string scrub_turn_metadata(const std::string& value) {
  auto parsed = json::parse(value, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("code_mode_tool_names")) {
    return value;
  }
  parsed.erase("code_mode_tool_names");
  return parsed.dump();
}

} // namespace

std::optional<std::string> service_tier_of(const json& body) {
  auto tier = body.find("service_tier");
  if (tier == body.end() || !tier->is_string()) {
    return std::nullopt;
  }
  return tier->get<std::string>();
}

std::string session_key_of(const http_request& request, const json& body) {
  for (const auto* name : {"session-id", "session_id", "x-session-id", "thread-id"}) {
    if (auto value = header_value(request, name); !value.empty()) {
      return value;
    }
  }
  if (auto window = header_value(request, "x-codex-window-id"); !window.empty()) {
    return window.substr(0, window.find(':'));
  }
  if (body.is_object() && body.contains("prompt_cache_key")
      && body["prompt_cache_key"].is_string()) {
    return body["prompt_cache_key"].get<std::string>();
  }
  return {};
}

caf::expected<bool> apply_key_policy(json& body, const domain::api_key_policy& policy) {
  if (!body.is_object()) {
    return make_error(errc::invalid_request, "request body must be a JSON object");
  }
  bool changed = false;
  if (policy.enforced_model) {
    if (body["model"] != *policy.enforced_model) {
      body["model"] = *policy.enforced_model;
      changed = true;
    }
  }
  const auto named = body.find("model");
  const auto model =
    named != body.end() && named->is_string() ? named->get<std::string>() : std::string{};
  if (policy.allowed_models
      && std::none_of(policy.allowed_models->begin(), policy.allowed_models->end(),
                      [&](const auto& allowed) { return ascii_iequals(allowed, model); })) {
    return make_error(errc::model_not_allowed, "model not allowed by key policy");
  }
  if (policy.enforced_reasoning_effort) {
    if (!body["reasoning"].is_object()) {
      body["reasoning"] = json::object();
    }
    body["reasoning"]["effort"] = *policy.enforced_reasoning_effort;
    changed = true;
  } else if (policy.max_reasoning_effort && body.contains("reasoning")
             && body["reasoning"].is_object() && body["reasoning"].contains("effort")
             && body["reasoning"]["effort"].is_string()) {
    const auto requested = body["reasoning"]["effort"].get<std::string>();
    if (effort_rank(requested) > effort_rank(*policy.max_reasoning_effort)) {
      return make_error(errc::reasoning_effort_not_allowed,
                        "reasoning effort above the key's maximum");
    }
  }
  return changed;
}

std::string rewritten_body(std::string_view text, const domain::api_key_policy& policy) {
  json body;
  parse_untrusted(text, body);
  check_fields(body, native_body_fields);
  (void)apply_key_policy(body, policy);
  return body.dump();
}

actors::header_list upstream_headers_for(const http_request& client,
                                         const std::string& access_token,
                                         const std::string& chatgpt_account_id, bool streaming) {
  actors::header_list headers;
  headers.emplace_back("authorization", "Bearer " + access_token);
  if (!chatgpt_account_id.empty()) {
    headers.emplace_back("chatgpt-account-id", chatgpt_account_id);
  }
  headers.emplace_back("content-type", "application/json");
  headers.emplace_back("accept", streaming ? "text/event-stream" : "application/json");
  const auto originator = header_value(client, "originator");
  if (originator.rfind("codex", 0) == 0) {
    headers.emplace_back("originator", originator);
    if (auto agent = header_value(client, "user-agent"); !agent.empty()) {
      headers.emplace_back("user-agent", agent);
    }
  } else {
    headers.emplace_back("originator", std::string{actors::codex_originator});
    headers.emplace_back("user-agent", std::string{actors::codex_user_agent});
  }
  if (auto version = header_value(client, "version"); !version.empty()) {
    headers.emplace_back("version", version);
  }
  for (auto name : forwarded_client_headers) {
    if (auto value = header_value(client, name); !value.empty()) {
      headers.emplace_back(std::string{name}, std::move(value));
    }
  }
  if (auto metadata = header_value(client, "x-codex-turn-metadata"); !metadata.empty()) {
    headers.emplace_back("x-codex-turn-metadata", scrub_turn_metadata(metadata));
  }
  return headers;
}

bool is_relayed_response_header(std::string_view name) {
  return std::find(relayed_response_headers.begin(), relayed_response_headers.end(), name)
         != relayed_response_headers.end();
}

} // namespace cxp::edge
