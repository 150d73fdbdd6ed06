#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "persistence/api_keys/api_key_limits.hpp"

namespace cxp::persistence {
struct api_key_row;
} // namespace cxp::persistence

namespace cxp::domain {

/// "sk-cxp-": the fixed head of every Pool API key.
constexpr std::string_view api_key_scheme = "sk-cxp-";
/// Lower-case hex digits after the scheme (6 random bytes).
constexpr size_t api_key_prefix_hex = 12;
/// Random bytes in the secret part, rendered as base64url without padding (43 characters).
constexpr size_t api_key_secret_bytes = 32;
/// Longest key display name, in Unicode code points.
constexpr size_t max_api_key_name_length = 100;

/// Format sk-cxp-<12 lower hex prefix>-<secret: 32 random bytes base64url>. The stored prefix is
/// "sk-cxp-<12hex>"; the stored hash is hmac_sha256(context.api_key_hash_key, full raw key) hex.
struct parsed_api_key {
  std::string prefix;
};

/// The stored prefix (`scheme` plus 12 lower-case hex digits) of `raw` when it has the exact shape
/// `<scheme><12 hex>-<43 base64url>` shared by Pool API keys and operator MCP tokens; nullopt
/// otherwise.
std::optional<std::string> scheme_token_prefix(std::string_view raw, std::string_view scheme);

/// The stored prefix of `raw` when it has the exact shape of a Pool API key (scheme, 12 lower-case
/// hex digits, '-', 43 base64url characters); nullopt otherwise. A shape check only: it says
/// nothing about whether the key exists.
std::optional<parsed_api_key> parse_api_key(std::string_view raw);

/// The per-key policy: the stored limits and the allowed models. Unset members mean "no
/// restriction" (`allowed_models` unset = every model, an empty list = no model).
struct api_key_policy : persistence::api_key_limits {
  std::optional<std::vector<std::string>> allowed_models;
};

/// A key as the admin API and the CLI show it: never the hash or the raw key.
struct api_key_view {
  std::string id, pool_id, display_name, key_prefix, status;
  int32_t revocation_epoch;
  std::optional<std::string> expires_at, last_used_at, revoked_at;
  api_key_policy policy;
  std::string created_at, updated_at;
};

/// The view as a JSON object; `policy` is a nested object, unset members are null.
nlohmann::json to_json(const api_key_view& view);

/// The names `api_key_fields::cleared` may hold.
constexpr std::string_view cleared_expires_at = "expires_at";
constexpr std::string_view cleared_allowed_models = "allowed_models";
constexpr std::string_view cleared_enforced_model = "enforced_model";
constexpr std::string_view cleared_max_reasoning_effort = "max_reasoning_effort";
constexpr std::string_view cleared_enforced_reasoning_effort = "enforced_reasoning_effort";
constexpr std::string_view cleared_max_requests_per_minute = "max_requests_per_minute";
constexpr std::string_view cleared_max_tokens_per_day = "max_tokens_per_day";
constexpr std::string_view cleared_max_tokens_per_week = "max_tokens_per_week";

/// Every policy member name.
constexpr std::array<std::string_view, 7> api_key_policy_members = {
  cleared_allowed_models,          cleared_enforced_model,
  cleared_max_reasoning_effort,    cleared_enforced_reasoning_effort,
  cleared_max_requests_per_minute, cleared_max_tokens_per_day,
  cleared_max_tokens_per_week};

/// Checks a complete, merged policy: efforts in none|minimal|low|medium|high|xhigh, at most one of
/// enforced_reasoning_effort and max_reasoning_effort, caps > 0, model names 1..200 characters, at
/// most 256 allowed models, enforced_model among allowed_models when both are set. Adds a message
/// per bad field ("policy.<member>") to `errors`.
void check_api_key_policy(const api_key_policy& policy, std::map<std::string, std::string>& errors);

/// The policy stored in `row`; an unreadable `allowed_models` reads as an empty list (deny-all).
api_key_policy policy_of(const persistence::api_key_row& row);

api_key_view to_view(const persistence::api_key_row& row);

/// The result of authenticating a raw key on the request path.
struct authenticated_key {
  api_key_view key;
};

} // namespace cxp::domain
