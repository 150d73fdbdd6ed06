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
#include "domain/keys/api_key.hpp"

namespace cxp::domain {

/// Input of create and update. A set member is written; an unset one is left alone (update) or
/// takes its default (create). `cleared` names the members to reset to null ("expires_at" or a
/// policy member name, see the `cleared_*` constants); a name in `cleared` wins over a value.
struct api_key_fields {
  std::optional<std::string> pool_id, display_name, expires_at;
  std::optional<api_key_policy> policy;
  std::set<std::string, std::less<>> cleared;
};

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

/// Pool API keys over the admin API and the CLI (their request-path authentication is
/// `key_authenticator`). instance_owner (and the CLI) manage every key; instance_admin only keys
/// of its pools, and a key outside the caller's scope is `errc::not_found`. Every mutation writes
/// one audit event ("api_key.create", "api_key.update", "api_key.rotate", "api_key.pause",
/// "api_key.resume", "api_key.revoke") in the same transaction; its details hold the key prefix,
/// never the secret. Revoked keys are terminal: update, rotate, pause and resume fail with
/// `errc::conflict`. Synchronous: blocks on the database.
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

private:
  caf::expected<persistence::api_key_row> load_visible(const principal& who, const std::string& id);
  caf::expected<api_key_view> change_status(const principal& who, const std::string& id,
                                            const std::string& to);

  service_context& context_;
};

} // namespace cxp::domain
