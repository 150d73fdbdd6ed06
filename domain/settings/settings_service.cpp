#include "domain/settings/settings_service.hpp"

#include "domain/admin_input.hpp"
#include "domain/settings/settings_registry.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/settings/settings_repository.hpp"

namespace cxp::domain {

namespace {

/// The at-rest form of a secret setting's value: a keyed digest, enough to verify a presented
/// secret and useless to anyone who reads the database.
std::string protect(const service_context& context, const std::string& raw) {
  return nlohmann::json(persistence::hmac_sha256(context.token_hash_key, raw)).dump();
}

/// Why a non-secret setting's value cannot be stored: a string in it (or in its list) holds a
/// control character. Such values are shown in the UI and printed by the CLI.
std::optional<std::string> text_problem(const nlohmann::json& value) {
  if (value.is_string()) {
    return display_text_problem(value.get_ref<const std::string&>());
  }
  if (value.is_array()) {
    for (const auto& item : value) {
      if (auto problem = text_problem(item)) {
        return problem;
      }
    }
  }
  return std::nullopt;
}

} // namespace

caf::expected<nlohmann::json> settings_service::list(const principal& who) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "settings are owner-only");
  }
  auto stored = load_instance_settings(context_.db);
  if (!stored) {
    return stored.error();
  }
  return stored->describe();
}

caf::expected<nlohmann::json> settings_service::update(const principal& who,
                                                       const nlohmann::json& changes) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "settings are owner-only");
  }
  if (!changes.is_object() || changes.empty()) {
    return make_validation_error({{"settings", "must be a non-empty object of key: value"}});
  }
  std::map<std::string, std::string> field_errors;
  std::vector<persistence::setting_row> writes;
  std::vector<std::string> resets;
  const auto now = to_iso8601(context_.clock.now());
  const std::optional<std::string> updated_by =
    who.operator_id.empty() ? std::nullopt : std::optional<std::string>{who.operator_id};
  for (const auto& [key, value] : changes.items()) {
    const auto* spec = find_setting(key);
    if (spec == nullptr) {
      field_errors[key] = "is not a known setting";
      continue;
    }
    if (value.is_null()) {
      resets.push_back(key);
      continue;
    }
    auto valid = validate_setting(*spec, value);
    if (!valid) {
      field_errors[key] = context_of(valid.error());
      continue;
    }
    if (!spec->is_secret()) {
      if (auto problem = text_problem(*valid)) {
        field_errors[key] = *problem;
        continue;
      }
      writes.push_back({key, valid->dump(), updated_by, now});
      continue;
    }
    writes.push_back({key, protect(context_, valid->get<std::string>()), updated_by, now});
  }
  if (!field_errors.empty()) {
    return make_validation_error(std::move(field_errors));
  }
  std::vector<std::string> changed_keys;
  for (const auto& row : writes) {
    changed_keys.push_back(row.key);
  }
  changed_keys.insert(changed_keys.end(), resets.begin(), resets.end());
  auto event = audit_event(context_, who, "instance_settings.update");
  event.target_type = "instance_settings";
  event.details = nlohmann::json{{"keys", changed_keys}}.dump();
  auto written = context_.db.transact([&](persistence::unit_of_work& work) {
    for (const auto& row : writes) {
      persistence::settings_repository::upsert_in(work, row);
    }
    for (const auto& key : resets) {
      persistence::settings_repository::remove_in(work, key);
    }
    persistence::audit_repository::record_in(work, event);
    work.commit();
  });
  if (!written) {
    return written.error();
  }
  return list(who);
}

caf::expected<std::map<std::string, std::string>> load_stored_settings(persistence::database& db) {
  auto rows = persistence::settings_repository{db}.load_all();
  if (!rows) {
    return rows.error();
  }
  std::map<std::string, std::string> stored;
  for (auto& [key, row] : *rows) {
    stored.emplace(key, std::move(row.value_json));
  }
  return stored;
}

caf::expected<instance_settings> load_instance_settings(persistence::database& db) {
  auto stored = load_stored_settings(db);
  if (!stored) {
    return stored.error();
  }
  return instance_settings::from_stored(*stored);
}

} // namespace cxp::domain
