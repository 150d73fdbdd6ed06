#include "domain/keys/api_key_service.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "common/encoding.hpp"
#include "domain/admin_input.hpp"
#include "domain/pools/pool_service.hpp"
#include "persistence/api_keys/api_key_repository.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/pools/pool_repository.hpp"

namespace cxp::domain {

namespace {

constexpr std::array<std::string_view, 3> key_statuses = {"active", "paused", "revoked"};
/// A prefix clash (6 random bytes) is improbable; a few fresh draws make it impossible in practice.
constexpr int max_prefix_attempts = 3;

struct generated_key {
  std::string prefix;
  secret<std::string> raw;
  std::string hash;
};

generated_key generate_key(const service_context& context) {
  generated_key key;
  key.prefix = std::string{api_key_scheme} + to_hex(random_bytes(api_key_prefix_hex / 2));
  key.raw =
    secret<std::string>{key.prefix + "-" + to_base64url(random_bytes(api_key_secret_bytes))};
  key.hash = persistence::hmac_sha256(context.api_key_hash_key, key.raw.expose());
  return key;
}

std::optional<std::string>
models_to_storage(const std::optional<std::vector<std::string>>& models) {
  if (!models) {
    return std::nullopt;
  }
  return nlohmann::json(*models).dump();
}

void store_policy(const api_key_policy& policy, persistence::api_key_row& row) {
  static_cast<persistence::api_key_limits&>(row) = policy;
  row.allowed_models = models_to_storage(policy.allowed_models);
}

/// `base` with the members set in `fields` overwritten and those named in `fields.cleared` reset.
api_key_policy merge_policy(api_key_policy base, const api_key_fields& fields) {
  auto take = [&](std::string_view name, auto& target, const auto& value) {
    if (fields.cleared.count(name) > 0) {
      target.reset();
    } else if (value) {
      target = value;
    }
  };
  const api_key_policy given = fields.policy.value_or(api_key_policy{});
  take(cleared_allowed_models, base.allowed_models, given.allowed_models);
  take(cleared_enforced_model, base.enforced_model, given.enforced_model);
  take(cleared_max_reasoning_effort, base.max_reasoning_effort, given.max_reasoning_effort);
  take(cleared_enforced_reasoning_effort, base.enforced_reasoning_effort,
       given.enforced_reasoning_effort);
  take(cleared_max_requests_per_minute, base.max_requests_per_minute,
       given.max_requests_per_minute);
  take(cleared_max_tokens_per_day, base.max_tokens_per_day, given.max_tokens_per_day);
  take(cleared_max_tokens_per_week, base.max_tokens_per_week, given.max_tokens_per_week);
  return base;
}

/// The stored form of `expires_at`, or a field error when it does not parse or is not in the
/// future.
std::optional<std::string> checked_expiry(const std::string& text, time_point now,
                                          std::map<std::string, std::string>& errors) {
  auto at = parse_iso8601(text);
  if (!at) {
    errors["expires_at"] = "must be an ISO-8601 UTC time such as 2030-01-01T00:00:00Z";
    return std::nullopt;
  }
  if (*at <= now) {
    errors["expires_at"] = "must be in the future";
    return std::nullopt;
  }
  return to_iso8601(*at);
}

caf::error revoked_is_terminal() {
  return make_error(errc::conflict, "api key is revoked");
}

} // namespace

nlohmann::json to_json(const created_api_key& created) {
  auto json = to_json(created.key);
  json["key"] = created.raw_key.expose();
  return json;
}

api_key_service::api_key_service(service_context& context) : context_(context) {}

caf::expected<created_api_key> api_key_service::create(const principal& who,
                                                       const api_key_fields& fields) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  const auto now = context_.clock.now();
  std::map<std::string, std::string> errors;
  persistence::api_key_row row;
  if (!fields.pool_id) {
    errors["pool_id"] = "is required";
  } else {
    auto pool = persistence::pool_repository{context_.db}.get(*fields.pool_id);
    if (!pool && to_errc(pool.error()) != errc::not_found) {
      return pool.error();
    }
    if (pool && !who.can_manage_pool(pool->id)) {
      return make_error(errc::forbidden, "pool outside the operator's scope");
    }
    if (!pool) {
      errors["pool_id"] = "does not name a pool you can manage";
    } else {
      row.pool_id = pool->id;
    }
  }
  if (!fields.display_name) {
    errors["display_name"] = "is required";
  } else if (auto name = clean_display_text(*fields.display_name, max_api_key_name_length)) {
    row.display_name = *name;
  } else {
    errors["display_name"] = "must be 1 to 100 characters";
  }
  if (fields.expires_at && fields.cleared.count(cleared_expires_at) == 0) {
    row.expires_at = checked_expiry(*fields.expires_at, now, errors);
  }
  const auto policy = merge_policy(api_key_policy{}, fields);
  check_api_key_policy(policy, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  store_policy(policy, row);
  row.id = new_uuid();
  row.status = "active";
  if (!who.operator_id.empty()) {
    row.created_by = who.operator_id;
  }
  row.created_at = row.updated_at = to_iso8601(now);
  persistence::api_key_repository keys{context_.db};
  for (int attempt = 1;; ++attempt) {
    auto generated = generate_key(context_);
    row.key_prefix = generated.prefix;
    row.key_hash = generated.hash;
    auto event = audit_event(context_, who, "api_key.create");
    event.target_type = "api_key";
    event.target_id = row.id;
    event.pool_id = row.pool_id;
    event.details =
      nlohmann::json{{"key_prefix", row.key_prefix}, {"display_name", row.display_name}}.dump();
    auto inserted = keys.insert(row, event);
    if (inserted) {
      return created_api_key{to_view(row), std::move(generated.raw)};
    }
    if (to_errc(inserted.error()) != errc::conflict || attempt == max_prefix_attempts) {
      return inserted.error();
    }
  }
}

caf::expected<api_key_page> api_key_service::list(const principal& who,
                                                  const api_key_filter& filter) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  if (auto page = validate_page(filter.page); !page) {
    return page.error();
  }
  if (filter.status && !is_one_of(key_statuses, *filter.status)) {
    return make_validation_error({{"status", "must be active, paused or revoked"}});
  }
  persistence::api_key_list_filter query;
  query.pool_id = filter.pool_id;
  query.status = filter.status;
  apply_scope_and_page(query, who, filter.page);
  auto rows = persistence::api_key_repository{context_.db}.list(query);
  if (!rows) {
    return rows.error();
  }
  return make_page<api_key_page>(*rows, filter.page.limit,
                                 [](const auto& row) { return to_view(row); });
}

caf::expected<persistence::api_key_row> api_key_service::load_visible(const principal& who,
                                                                      const std::string& id) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  auto row = persistence::api_key_repository{context_.db}.get(id);
  if (!row) {
    return row.error();
  }
  if (!who.can_manage_pool(row->pool_id)) {
    return make_error(errc::not_found, "api key not found");
  }
  return row;
}

caf::expected<api_key_view> api_key_service::get(const principal& who, const std::string& id) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  return to_view(*row);
}

caf::expected<api_key_view> api_key_service::update(const principal& who, const std::string& id,
                                                    const api_key_fields& fields) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  if (row->status == "revoked") {
    return revoked_is_terminal();
  }
  const auto now = context_.clock.now();
  std::map<std::string, std::string> errors;
  auto updated = *row;
  std::vector<std::string> changed;
  if (fields.pool_id && *fields.pool_id != row->pool_id) {
    errors["pool_id"] = "cannot be changed; create a key in the other pool";
  }
  if (fields.display_name) {
    if (auto name = clean_display_text(*fields.display_name, max_api_key_name_length)) {
      updated.display_name = *name;
    } else {
      errors["display_name"] = "must be 1 to 100 characters";
    }
  }
  if (fields.cleared.count(cleared_expires_at) > 0) {
    updated.expires_at.reset();
  } else if (fields.expires_at) {
    updated.expires_at = checked_expiry(*fields.expires_at, now, errors);
  }
  const auto policy = merge_policy(policy_of(*row), fields);
  check_api_key_policy(policy, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  store_policy(policy, updated);
  auto note = [&](const char* name, bool differs) {
    if (differs) {
      changed.emplace_back(name);
    }
  };
  note("display_name", updated.display_name != row->display_name);
  note("expires_at", updated.expires_at != row->expires_at);
  note("allowed_models", updated.allowed_models != row->allowed_models);
  note("enforced_model", updated.enforced_model != row->enforced_model);
  note("max_reasoning_effort", updated.max_reasoning_effort != row->max_reasoning_effort);
  note("enforced_reasoning_effort",
       updated.enforced_reasoning_effort != row->enforced_reasoning_effort);
  note("max_requests_per_minute", updated.max_requests_per_minute != row->max_requests_per_minute);
  note("max_tokens_per_day", updated.max_tokens_per_day != row->max_tokens_per_day);
  note("max_tokens_per_week", updated.max_tokens_per_week != row->max_tokens_per_week);
  if (changed.empty()) {
    return to_view(*row);
  }
  updated.updated_at = to_iso8601(now);
  auto event = audit_event(context_, who, "api_key.update");
  event.target_type = "api_key";
  event.target_id = id;
  event.pool_id = row->pool_id;
  event.details = nlohmann::json{{"key_prefix", row->key_prefix}, {"changed", changed}}.dump();
  if (auto written = persistence::api_key_repository{context_.db}.update_policy(updated, event);
      !written) {
    return written.error();
  }
  return to_view(updated);
}

caf::expected<created_api_key> api_key_service::rotate(const principal& who,
                                                       const std::string& id) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  if (row->status == "revoked") {
    return revoked_is_terminal();
  }
  const auto now = to_iso8601(context_.clock.now());
  persistence::api_key_repository keys{context_.db};
  for (int attempt = 1;; ++attempt) {
    auto generated = generate_key(context_);
    auto event = audit_event(context_, who, "api_key.rotate");
    event.target_type = "api_key";
    event.target_id = id;
    event.pool_id = row->pool_id;
    event.details =
      nlohmann::json{{"previous_key_prefix", row->key_prefix}, {"key_prefix", generated.prefix}}
        .dump();
    auto written = keys.rotate(id, generated.prefix, generated.hash, now, event);
    if (written) {
      auto rotated = *row;
      rotated.key_prefix = generated.prefix;
      rotated.key_hash = generated.hash;
      rotated.revocation_epoch += 1;
      rotated.updated_at = now;
      return created_api_key{to_view(rotated), std::move(generated.raw)};
    }
    if (to_errc(written.error()) != errc::conflict || attempt == max_prefix_attempts) {
      return written.error();
    }
  }
}

caf::expected<api_key_view>
api_key_service::change_status(const principal& who, const std::string& id, const std::string& to) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  if (row->status == to) {
    return to_view(*row);
  }
  if (row->status == "revoked") {
    return revoked_is_terminal();
  }
  const auto now = to_iso8601(context_.clock.now());
  // Pausing and revoking fence live connections; resuming does not need to.
  const bool bump = to != "active";
  std::optional<std::string> revoked_at;
  if (to == "revoked") {
    revoked_at = now;
  }
  const std::string action = to == "active"   ? "api_key.resume"
                             : to == "paused" ? "api_key.pause"
                                              : "api_key.revoke";
  auto event = audit_event(context_, who, action);
  event.target_type = "api_key";
  event.target_id = id;
  event.pool_id = row->pool_id;
  event.details = nlohmann::json{{"key_prefix", row->key_prefix}, {"status", to}}.dump();
  if (auto written = persistence::api_key_repository{context_.db}.set_status(
        id, to, bump, revoked_at, now, event);
      !written) {
    return written.error();
  }
  auto changed = *row;
  changed.status = to;
  changed.revocation_epoch += bump ? 1 : 0;
  changed.revoked_at = revoked_at;
  changed.updated_at = now;
  return to_view(changed);
}

caf::expected<api_key_view> api_key_service::pause(const principal& who, const std::string& id) {
  return change_status(who, id, "paused");
}

caf::expected<api_key_view> api_key_service::resume(const principal& who, const std::string& id) {
  return change_status(who, id, "active");
}

caf::expected<api_key_view> api_key_service::revoke(const principal& who, const std::string& id) {
  return change_status(who, id, "revoked");
}

} // namespace cxp::domain
