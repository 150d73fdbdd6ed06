#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/upstream/upstream_client.hpp"
#include "common/json_input.hpp"
#include "domain/keys/api_key.hpp"
#include "edge/server/exchange.hpp"

namespace cxp::edge {

/// The top-level fields of a native Responses body (an HTTP request or a websocket
/// `response.create` frame, whose `type` and `generate` ride along) whose types later reads
/// rely on.
inline constexpr std::array<field_rule, 12> native_body_fields = {{
  {"type", json_kind::string},
  {"model", json_kind::string},
  {"stream", json_kind::boolean},
  {"generate", json_kind::boolean},
  {"prompt_cache_key", json_kind::string},
  {"reasoning", json_kind::object},
  {"input", json_kind::string_or_array},
  {"instructions", json_kind::string},
  {"tools", json_kind::array},
  {"store", json_kind::boolean},
  {"previous_response_id", json_kind::string},
  {"service_tier", json_kind::string},
}};

/// The members of a Responses body that carry the conversation itself: forwarded as they came,
/// so the request path reads only the body's outline (`parse_untrusted_outline`).
inline constexpr std::array<std::string_view, 3> bulky_body_fields = {"input", "instructions",
                                                                      "tools"};

/// The body to forward when the key's policy or a null field changed its outline: the whole
/// document, checked and rewritten the way its outline was.
std::string rewritten_body(std::string_view text, const domain::api_key_policy& policy);

/// The client's session key (for pinning and the request log): `session-id`, `session_id`,
/// `x-session-id`, `thread-id`, the thread part of `x-codex-window-id`, else the body's
/// `prompt_cache_key`. Empty when the client sent none.
std::string session_key_of(const http_request& request, const nlohmann::json& body);

/// The body's `service_tier` as the client sent it (the request log prices the request at that
/// tier), or nullopt when it sent none. `body` has passed `check_fields`.
std::optional<std::string> service_tier_of(const nlohmann::json& body);

/// Applies the key's policy to a Responses body: an enforced model or reasoning effort is
/// written into it; a model outside `allowed_models` is `errc::model_not_allowed`; an effort
/// above `max_reasoning_effort` is `errc::reasoning_effort_not_allowed`. Returns whether the
/// body changed (then it must be re-serialised).
caf::expected<bool> apply_key_policy(nlohmann::json& body, const domain::api_key_policy& policy);

/// The headers sent upstream for a native Codex call: the account's bearer and
/// `chatgpt-account-id`, the client's Codex identity (`originator`, `user-agent`, `version`) or
/// ours when it presented none, and only allowlisted client headers: the continuity headers the
/// backend uses for prompt-cache routing (`session-id`, `session_id`, `thread-id`,
/// `x-client-request-id`, `conversation_id`), `x-codex-*` turn metadata (with the
/// `code_mode_tool_names` key removed from `x-codex-turn-metadata`), `x-openai-subagent` and
/// trace context. Never the client's authorization or cookies.
actors::header_list upstream_headers_for(const http_request& client,
                                         const std::string& access_token,
                                         const std::string& chatgpt_account_id, bool streaming);

/// The upstream response headers relayed to the client: content type, turn state, model and
/// safety controls, request ids. Quota headers are consumed, not relayed (they describe one
/// account of the pool, not the pool).
bool is_relayed_response_header(std::string_view name);

} // namespace cxp::edge
