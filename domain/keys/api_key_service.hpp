#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"

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

/// The stored prefix of `raw` when it has the exact shape of a Pool API key (scheme, 12 lower-case
/// hex digits, '-', 43 base64url characters); nullopt otherwise. A shape check only: it says
/// nothing about whether the key exists.
std::optional<parsed_api_key> parse_api_key(std::string_view raw);

/// The per-key policy. Unset members mean "no restriction" (`allowed_models` unset = every model,
/// an empty list = no model).
struct api_key_policy {
  std::optional<std::vector<std::string>> allowed_models;
  std::optional<std::string> enforced_model, max_reasoning_effort, enforced_reasoning_effort;
  std::optional<int32_t> max_requests_per_minute;
  std::optional<int64_t> max_tokens_per_day, max_tokens_per_week;
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

/// Input of create and update. A set member is written; an unset one is left alone (update) or
/// takes its default (create). `cleared` names the members to reset to null ("expires_at" or a
/// policy member name, see the `cleared_*` constants); a name in `cleared` wins over a value.
struct api_key_fields {
  std::optional<std::string> pool_id, display_name, expires_at;
  std::optional<api_key_policy> policy;
  std::set<std::string, std::less<>> cleared;
};

/// Parses `{"pool_id", "display_name", "expires_at", "policy": {"allowed_models",
/// "enforced_model", "max_reasoning_effort", "enforced_reasoning_effort",
/// "max_requests_per_minute", "max_tokens_per_day", "max_tokens_per_week"}}`. A JSON null for
/// `expires_at` or a policy member puts its name into `cleared`; `"policy": null` clears every
/// policy member. Unknown keys, wrong types and bad values -> validation error naming the field
/// ("policy.<member>" for policy members). Checks that need the stored key or the clock (mutual
/// exclusion after merging, expiry in the future) are left to the service.
caf::expected<api_key_fields> parse_api_key_fields(const nlohmann::json& body);

/// Checks a complete, merged policy: efforts in none|minimal|low|medium|high|xhigh, at most one of
/// enforced_reasoning_effort and max_reasoning_effort, caps > 0, model names 1..200 characters, at
/// most 256 allowed models, enforced_model among allowed_models when both are set. Adds a message
/// per bad field ("policy.<member>") to `errors`.
void check_api_key_policy(const api_key_policy& policy, std::map<std::string, std::string>& errors);

/// What create and rotate return: the key and its raw value, which is never retrievable again.
struct created_api_key {
  api_key_view key;
  secret<std::string> raw_key;
};

/// The view plus `"key"`: the one place the raw key is rendered, for the body of the create
/// and rotate responses only (never log it).
nlohmann::json to_json(const created_api_key& created);

struct api_key_filter {
  std::optional<std::string> pool_id, status;
  page_request page;
};

struct api_key_page {
  std::vector<api_key_view> items;
  std::optional<std::string> next_cursor;
};

/// The result of authenticating a raw key on the request path.
struct authenticated_key {
  api_key_view key;
};

api_key_view to_view(const persistence::api_key_row& row);

/// Pool API keys over the admin API and the CLI, and their authentication on the request path.
/// instance_owner (and the CLI) manage every key; instance_admin only keys of its pools, and a
/// key outside the caller's scope is `errc::not_found`. Every mutation writes one audit event
/// ("api_key.create", "api_key.update", "api_key.rotate", "api_key.pause", "api_key.resume",
/// "api_key.revoke") in the same transaction; its details hold the key prefix, never the secret.
/// Revoked keys are terminal: update, rotate, pause and resume fail with `errc::conflict`.
/// Synchronous: blocks on the database.
class api_key_service {
public:
  explicit api_key_service(service_context& context);

  /// `pool_id` is required and must name a pool the caller manages (else a validation error on
  /// `pool_id`); `display_name` 1..100 code points; `expires_at` ISO-8601 in the future.
  caf::expected<created_api_key> create(const principal& who, const api_key_fields& fields);

  /// Ordered by creation, oldest first; `status` in active | paused | revoked.
  caf::expected<api_key_page> list(const principal& who, const api_key_filter& filter);

  caf::expected<api_key_view> get(const principal& who, const std::string& id);

  /// Changes display name, expiry and policy (merged with the stored policy, then checked as a
  /// whole). `pool_id` may be given only when unchanged.
  caf::expected<api_key_view> update(const principal& who, const std::string& id,
                                     const api_key_fields& fields);

  /// New prefix+secret; the old key stops working. Also bumps revocation_epoch, so live
  /// connections opened with the old key are fenced. The status is kept.
  caf::expected<created_api_key> rotate(const principal& who, const std::string& id);

  /// active -> paused; bumps revocation_epoch. A paused key is returned unchanged.
  caf::expected<api_key_view> pause(const principal& who, const std::string& id);

  /// paused -> active. An active key is returned unchanged.
  caf::expected<api_key_view> resume(const principal& who, const std::string& id);

  /// Terminal; bumps revocation_epoch and sets revoked_at. A revoked key is returned unchanged.
  caf::expected<api_key_view> revoke(const principal& who, const std::string& id);

  /// Request-path check: shape, prefix lookup, constant-time hash compare, status active, not
  /// expired, pool active. Errors: api_key_missing (empty), api_key_invalid (unknown/mismatch),
  /// api_key_inactive (paused/revoked/expired/pool disabled), or a database error. On success
  /// last_used_at is touched at most once per minute (a failed touch is logged, not returned).
  caf::expected<authenticated_key> authenticate(std::string_view raw_key);

private:
  caf::expected<persistence::api_key_row> load_visible(const principal& who, const std::string& id);
  caf::expected<api_key_view> change_status(const principal& who, const std::string& id,
                                            const std::string& to);

  service_context& context_;
};

} // namespace cxp::domain
