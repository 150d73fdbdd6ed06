#include "domain/pools/pool_service.hpp"

#include <array>

#include "common/encoding.hpp"
#include "domain/admin_input.hpp"
#include "domain/routing/selection_policy.hpp"
#include "persistence/pools/pool_repository.hpp"

namespace cxp::domain {

namespace {

constexpr std::array<std::string_view, 2> pool_statuses = {"active", "disabled"};
constexpr size_t max_search_length = 100;
/// Hex digits of the random suffix of a slug made for a name without ASCII letters or digits.
constexpr size_t fallback_slug_hex = 8;

bool is_valid_slug(std::string_view slug) {
  if (slug.empty() || slug.size() > max_pool_slug_length || slug.front() == '-'
      || slug.back() == '-') {
    return false;
  }
  for (char c : slug) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

} // namespace

nlohmann::json to_json(const pool_view& view) {
  return nlohmann::json{
    {"id", view.id},
    {"slug", view.slug},
    {"name", view.name},
    {"status", view.status},
    {"routing_strategy", view.routing_strategy},
    {"ring_size", view.ring_size},
    {"sticky_sessions", view.sticky_sessions},
    {"prompt_cache_affinity", view.prompt_cache_affinity},
    {"v1_compatibility_enabled", view.v1_compatibility_enabled},
    {"allow_image_generation", view.allow_image_generation},
    {"created_at", view.created_at},
    {"updated_at", view.updated_at},
    {"disabled_at", view.disabled_at ? nlohmann::json(*view.disabled_at) : nlohmann::json()}};
}

pool_view to_view(const persistence::pool_row& row) {
  return pool_view{row.id,
                   row.slug,
                   row.name,
                   row.status,
                   row.routing_strategy,
                   row.ring_size,
                   row.sticky_sessions,
                   row.prompt_cache_affinity,
                   row.v1_compatibility_enabled,
                   row.allow_image_generation,
                   row.created_at,
                   row.updated_at,
                   row.disabled_at};
}

std::string derive_slug(std::string_view name) {
  std::string slug;
  bool pending_dash = false;
  for (char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      pending_dash = !slug.empty();
      continue;
    }
    if (pending_dash) {
      if (slug.size() + 2 > max_pool_slug_length) {
        break;
      }
      slug += '-';
    }
    if (slug.size() >= max_pool_slug_length) {
      break;
    }
    pending_dash = false;
    slug += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return slug;
}

void check_pool_fields(const pool_fields& fields, std::map<std::string, std::string>& errors) {
  if (auto problem = fields.name ? display_text_problem(*fields.name) : std::nullopt) {
    errors["name"] = *problem;
  } else if (fields.name && !clean_display_text(*fields.name, max_pool_name_length)) {
    errors["name"] = "must be 1 to 100 characters";
  }
  if (fields.slug && !is_valid_slug(*fields.slug)) {
    errors["slug"] =
      "must be 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'";
  }
  if (fields.routing_strategy && !parse_routing_strategy(*fields.routing_strategy)) {
    errors["routing_strategy"] =
      "must be one of bridge_ring, deterministic_rotation, least_recent_success, quota_first";
  }
  if (fields.ring_size && (*fields.ring_size < 1 || *fields.ring_size > max_pool_ring_size)) {
    errors["ring_size"] = "must be between 1 and 64";
  }
}

std::string encode_page_cursor(const std::string& created_at, const std::string& id) {
  return to_base64url(created_at + "|" + id);
}

std::optional<std::pair<std::string, std::string>> decode_page_cursor(const std::string& cursor) {
  auto decoded = from_base64(cursor);
  if (!decoded) {
    return std::nullopt;
  }
  const auto bar = decoded->find('|');
  if (bar == std::string::npos) {
    return std::nullopt;
  }
  auto created_at = decoded->substr(0, bar);
  auto id = decoded->substr(bar + 1);
  if (!parse_iso8601(created_at) || !is_uuid(id)) {
    return std::nullopt;
  }
  return std::pair{std::move(created_at), std::move(id)};
}

caf::expected<void> validate_page(const page_request& page) {
  std::map<std::string, std::string> errors;
  if (page.limit < 1 || page.limit > page_request::max_limit) {
    errors["limit"] = "must be between 1 and 200";
  }
  if (page.cursor && !decode_page_cursor(*page.cursor)) {
    errors["cursor"] = "is not a cursor returned by this list";
  }
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  return {};
}

caf::expected<void> require_operator(const principal& who) {
  if (who.type == principal::kind::anonymous) {
    return make_error(errc::unauthenticated, "no operator session");
  }
  if (who.type == principal::kind::cli || who.role == "instance_owner"
      || who.role == "instance_admin") {
    return {};
  }
  return make_error(errc::forbidden, "unknown operator role");
}

pool_service::pool_service(service_context& context) : context_(context) {}

caf::expected<pool_view> pool_service::create(const principal& who, const pool_fields& fields) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "only instance owners create pools");
  }
  auto checked = fields;
  if (checked.slug) {
    checked.slug = ascii_lowercase(*checked.slug);
  }
  std::map<std::string, std::string> errors;
  if (!checked.name) {
    errors["name"] = "is required";
  }
  check_pool_fields(checked, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  persistence::pool_row row;
  row.id = new_uuid();
  row.name = *clean_display_text(*checked.name, max_pool_name_length);
  row.slug = checked.slug ? *checked.slug : derive_slug(row.name);
  if (row.slug.empty()) {
    row.slug = "pool-" + row.id.substr(0, fallback_slug_hex);
  }
  row.routing_strategy = checked.routing_strategy.value_or("bridge_ring");
  row.ring_size = checked.ring_size.value_or(3);
  row.sticky_sessions = checked.sticky_sessions.value_or(true);
  row.prompt_cache_affinity = checked.prompt_cache_affinity.value_or(true);
  row.v1_compatibility_enabled = checked.v1_compatibility_enabled.value_or(true);
  row.allow_image_generation = checked.allow_image_generation.value_or(true);
  if (!who.operator_id.empty()) {
    row.created_by = who.operator_id;
  }
  row.created_at = row.updated_at = to_iso8601(context_.clock.now());
  auto event = audit_event(context_, who, "pool.create");
  event.target_type = "pool";
  event.target_id = row.id;
  event.pool_id = row.id;
  event.details = nlohmann::json{{"slug", row.slug}, {"name", row.name}}.dump();
  if (auto inserted = persistence::pool_repository{context_.db}.insert(row, event); !inserted) {
    if (to_errc(inserted.error()) == errc::conflict) {
      return make_error(errc::conflict, "pool slug already in use");
    }
    return inserted.error();
  }
  return to_view(row);
}

caf::expected<pool_page> pool_service::list(const principal& who, const pool_filter& filter) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  if (auto page = validate_page(filter.page); !page) {
    return page.error();
  }
  persistence::pool_list_filter query;
  std::map<std::string, std::string> errors;
  if (filter.status) {
    if (!is_one_of(pool_statuses, *filter.status)) {
      errors["status"] = "must be active or disabled";
    }
    query.status = filter.status;
  }
  if (filter.search) {
    const auto length = utf8_code_points(*filter.search);
    if (auto problem = display_text_problem(*filter.search)) {
      errors["search"] = *problem;
    } else if (!length || *length > max_search_length) {
      errors["search"] = "must be at most 100 characters";
    }
    query.search = clean_display_text(*filter.search, max_search_length);
  }
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  apply_scope_and_page(query, who, filter.page);
  auto rows = persistence::pool_repository{context_.db}.list(query);
  if (!rows) {
    return rows.error();
  }
  return make_page<pool_page>(*rows, filter.page.limit,
                              [](const auto& row) { return to_view(row); });
}

caf::expected<persistence::pool_row> pool_service::load_visible(const principal& who,
                                                                const std::string& id) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  if (!who.can_manage_pool(id)) {
    return make_error(errc::not_found, "pool not found");
  }
  return persistence::pool_repository{context_.db}.get(id);
}

caf::expected<pool_view> pool_service::get(const principal& who, const std::string& id) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  return to_view(*row);
}

caf::expected<pool_view> pool_service::update(const principal& who, const std::string& id,
                                              const pool_fields& fields) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  auto checked = fields;
  if (checked.slug) {
    checked.slug = ascii_lowercase(*checked.slug);
  }
  std::map<std::string, std::string> errors;
  check_pool_fields(checked, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  auto updated = *row;
  std::vector<std::string> changed;
  auto apply = [&](const char* name, const auto& value, auto& target) {
    if (value && *value != target) {
      target = *value;
      changed.emplace_back(name);
    }
  };
  std::optional<std::string> name;
  if (checked.name) {
    name = clean_display_text(*checked.name, max_pool_name_length);
  }
  apply("name", name, updated.name);
  apply("slug", checked.slug, updated.slug);
  apply("routing_strategy", checked.routing_strategy, updated.routing_strategy);
  apply("ring_size", checked.ring_size, updated.ring_size);
  apply("sticky_sessions", checked.sticky_sessions, updated.sticky_sessions);
  apply("prompt_cache_affinity", checked.prompt_cache_affinity, updated.prompt_cache_affinity);
  apply("v1_compatibility_enabled", checked.v1_compatibility_enabled,
        updated.v1_compatibility_enabled);
  apply("allow_image_generation", checked.allow_image_generation, updated.allow_image_generation);
  if (changed.empty()) {
    return to_view(*row);
  }
  updated.updated_at = to_iso8601(context_.clock.now());
  auto event = audit_event(context_, who, "pool.update");
  event.target_type = "pool";
  event.target_id = id;
  event.pool_id = id;
  event.details = nlohmann::json{{"changed", changed}, {"slug", updated.slug}}.dump();
  if (auto written = persistence::pool_repository{context_.db}.update(updated, event); !written) {
    if (to_errc(written.error()) == errc::conflict) {
      return make_error(errc::conflict, "pool slug already in use");
    }
    return written.error();
  }
  return to_view(updated);
}

caf::expected<pool_view> pool_service::set_status(const principal& who, const std::string& id,
                                                  bool active) {
  auto row = load_visible(who, id);
  if (!row) {
    return row.error();
  }
  const std::string status = active ? "active" : "disabled";
  if (row->status == status) {
    return to_view(*row);
  }
  auto updated = *row;
  updated.status = status;
  updated.updated_at = to_iso8601(context_.clock.now());
  updated.disabled_at = active ? std::nullopt : std::optional<std::string>{updated.updated_at};
  auto event = audit_event(context_, who, active ? "pool.enable" : "pool.disable");
  event.target_type = "pool";
  event.target_id = id;
  event.pool_id = id;
  event.details = nlohmann::json{{"slug", updated.slug}, {"status", status}}.dump();
  if (auto written = persistence::pool_repository{context_.db}.update(updated, event); !written) {
    return written.error();
  }
  return to_view(updated);
}

caf::expected<pool_view> pool_service::disable(const principal& who, const std::string& id) {
  return set_status(who, id, false);
}

caf::expected<pool_view> pool_service::enable(const principal& who, const std::string& id) {
  return set_status(who, id, true);
}

} // namespace cxp::domain
