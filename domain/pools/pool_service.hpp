#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "domain/admin_input.hpp"

namespace cxp::persistence {
struct pool_row;
} // namespace cxp::persistence

namespace cxp::domain {

/// Longest pool name, in Unicode code points.
constexpr size_t max_pool_name_length = 100;
/// Longest pool slug, in characters of [a-z0-9-].
constexpr size_t max_pool_slug_length = 63;
/// Upper bound of a pool's bridge ring size.
constexpr int32_t max_pool_ring_size = 64;

/// A pool as the admin API and the CLI show it.
struct pool_view {
  std::string id, slug, name, status, routing_strategy;
  int32_t ring_size;
  bool sticky_sessions, prompt_cache_affinity, v1_compatibility_enabled, allow_image_generation;
  std::string created_at, updated_at;
  std::optional<std::string> disabled_at;
};

/// The view as a JSON object with the member names as keys (`disabled_at` null when unset).
nlohmann::json to_json(const pool_view& view);

/// The mutable fields of a pool; a member that is unset is left alone (update) or takes its
/// default (create).
struct pool_fields {
  std::optional<std::string> name, slug, routing_strategy;
  std::optional<int32_t> ring_size;
  std::optional<bool> sticky_sessions, prompt_cache_affinity, v1_compatibility_enabled,
    allow_image_generation;
};

struct pool_filter {
  std::optional<std::string> status, search;
  page_request page;
};

struct pool_page {
  std::vector<pool_view> items;
  std::optional<std::string> next_cursor;
};

/// The slug `create` derives from `name` when none is given: ASCII letters lower-cased, digits
/// kept, every other run of characters collapsed to one '-', no '-' at either end, at most 63
/// characters. Empty when the name has no ASCII letter or digit.
std::string derive_slug(std::string_view name);

/// Checks the values of every set member of `fields` (name length, slug shape, strategy, ring
/// size) and adds a message per bad field to `errors`. `slug` is checked as given: callers
/// lower-case it first.
void check_pool_fields(const pool_fields& fields, std::map<std::string, std::string>& errors);

/// The opaque keyset cursor for a row ordered by (created_at, id); shared by the admin lists.
std::string encode_page_cursor(const std::string& created_at, const std::string& id);

/// The (created_at, id) inside a cursor made by `encode_page_cursor`, or nullopt when malformed.
std::optional<std::pair<std::string, std::string>> decode_page_cursor(const std::string& cursor);

/// Fills the scope and keyset fields shared by the repositories' list filters: an instance admin
/// sees only its pools; a (validated) cursor resumes after its row; one extra row is fetched to
/// learn whether another page exists.
template <class Query>
void apply_scope_and_page(Query& query, const principal& who, const page_request& page) {
  if (!who.is_owner()) {
    query.visible_pool_ids = who.pool_ids;
  }
  if (page.cursor) {
    auto position = decode_page_cursor(*page.cursor);
    query.after_created_at = position->first;
    query.after_id = position->second;
  }
  query.limit = page.limit + 1;
}

/// Builds one page from `rows` fetched with `limit + 1`: the first `limit` rows mapped through
/// `to_view`, and a cursor after the last of them when the extra row shows there is more.
template <class Page, class Rows, class ToView>
Page make_page(const Rows& rows, int limit, ToView&& to_view) {
  Page page;
  const auto shown = std::min(rows.size(), static_cast<size_t>(limit));
  for (size_t i = 0; i < shown; ++i) {
    page.items.push_back(to_view(rows[i]));
  }
  if (rows.size() > shown && shown > 0) {
    page.next_cursor = encode_page_cursor(rows[shown - 1].created_at, rows[shown - 1].id);
  }
  return page;
}

/// Checks `page` (limit 1..page_request::max_limit, a well-formed cursor); a validation error
/// names `limit` or `cursor`.
caf::expected<void> validate_page(const page_request& page);

/// Rejects principals that are not signed-in operators or the CLI: anonymous ->
/// `errc::unauthenticated`, a role other than instance_owner/instance_admin -> `errc::forbidden`.
caf::expected<void> require_operator(const principal& who);

pool_view to_view(const persistence::pool_row& row);

/// Pools over the admin API and the CLI. instance_owner (and the CLI) may do everything;
/// instance_admin sees and edits only the pools in `principal::pool_ids` and cannot create pools.
/// A pool outside the caller's scope is reported as `errc::not_found`, so its existence does not
/// leak. Every mutation writes one audit event ("pool.create", "pool.update", "pool.disable",
/// "pool.enable") in the same transaction. Synchronous: blocks on the database.
class pool_service {
public:
  explicit pool_service(service_context& context);

  /// Owner only. `name` is required (1..100 code points, trimmed); `slug` is optional (derived
  /// from the name, lower-cased, [a-z0-9-], 1..63, no '-' at either end) and unique ignoring case
  /// (clash -> `errc::conflict`). `routing_strategy` in bridge_ring | deterministic_rotation |
  /// least_recent_success | quota_first (default bridge_ring), `ring_size` 1..64 (default 3),
  /// every flag defaults to true.
  caf::expected<pool_view> create(const principal& who, const pool_fields& fields);

  /// Ordered by creation, oldest first; admins see only their pools. `status` in
  /// active | disabled; `search` matches name or slug ignoring case.
  caf::expected<pool_page> list(const principal& who, const pool_filter& filter);

  /// The pool, or `errc::not_found` when missing or outside the caller's scope.
  caf::expected<pool_view> get(const principal& who, const std::string& id);

  /// Applies every set member of `fields` (same rules as `create`); owner, or admin for its pool.
  caf::expected<pool_view> update(const principal& who, const std::string& id,
                                  const pool_fields& fields);

  /// Sets status `disabled` and `disabled_at`; the pool's keys stop authenticating. Idempotent.
  caf::expected<pool_view> disable(const principal& who, const std::string& id);

  /// Sets status `active` and clears `disabled_at`. Idempotent.
  caf::expected<pool_view> enable(const principal& who, const std::string& id);

private:
  caf::expected<persistence::pool_row> load_visible(const principal& who, const std::string& id);
  caf::expected<pool_view> set_status(const principal& who, const std::string& id, bool active);

  service_context& context_;
};

} // namespace cxp::domain
