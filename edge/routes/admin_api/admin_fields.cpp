#include "edge/routes/admin_api/admin_fields.hpp"

#include <limits>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/admin_input.hpp"

namespace cxp::edge {

namespace {

bool is_integer_in(const nlohmann::json& value, int64_t max) {
  if (!value.is_number_integer()) {
    return false;
  }
  if (value.is_number_unsigned()) {
    return value.get<uint64_t>() <= static_cast<uint64_t>(max);
  }
  return value.get<int64_t>() <= max;
}

} // namespace

caf::expected<domain::pool_fields> parse_pool_fields(const nlohmann::json& body) {
  if (!body.is_object()) {
    return make_validation_error({{"body", "must be a JSON object"}});
  }
  domain::pool_fields fields;
  std::map<std::string, std::string> errors;
  auto text = [&](const std::string& key, const nlohmann::json& value,
                  std::optional<std::string>& out) {
    if (!value.is_string()) {
      errors[key] = "must be a string";
      return;
    }
    out = value.get<std::string>();
  };
  auto flag = [&](const std::string& key, const nlohmann::json& value, std::optional<bool>& out) {
    if (!value.is_boolean()) {
      errors[key] = "must be a boolean";
      return;
    }
    out = value.get<bool>();
  };
  for (const auto& [key, value] : body.items()) {
    if (key == "name") {
      text(key, value, fields.name);
    } else if (key == "slug") {
      text(key, value, fields.slug);
      if (fields.slug) {
        fields.slug = ascii_lowercase(*fields.slug);
      }
    } else if (key == "routing_strategy") {
      text(key, value, fields.routing_strategy);
    } else if (key == "ring_size") {
      const bool in_range =
        value.is_number_unsigned()
          ? value.get<uint64_t>() >= 1 && value.get<uint64_t>() <= domain::max_pool_ring_size
          : value.is_number_integer() && value.get<int64_t>() >= 1
              && value.get<int64_t>() <= domain::max_pool_ring_size;
      if (!in_range) {
        errors[key] = "must be an integer between 1 and 64";
      } else {
        fields.ring_size = static_cast<int32_t>(value.get<int64_t>());
      }
    } else if (key == "sticky_sessions") {
      flag(key, value, fields.sticky_sessions);
    } else if (key == "prompt_cache_affinity") {
      flag(key, value, fields.prompt_cache_affinity);
    } else if (key == "v1_compatibility_enabled") {
      flag(key, value, fields.v1_compatibility_enabled);
    } else if (key == "allow_image_generation") {
      flag(key, value, fields.allow_image_generation);
    } else {
      errors[key] = "is not a known field";
    }
  }
  domain::check_pool_fields(fields, errors);
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  return fields;
}

caf::expected<domain::api_key_fields> parse_api_key_fields(const nlohmann::json& body) {
  if (!body.is_object()) {
    return make_validation_error({{"body", "must be a JSON object"}});
  }
  domain::api_key_fields fields;
  std::map<std::string, std::string> errors;
  auto text = [&](const std::string& field, const nlohmann::json& value,
                  std::optional<std::string>& out) {
    if (!value.is_string()) {
      errors[field] = "must be a string";
      return;
    }
    out = value.get<std::string>();
  };
  for (const auto& [key, value] : body.items()) {
    if (key == "pool_id") {
      text(key, value, fields.pool_id);
    } else if (key == "display_name") {
      text(key, value, fields.display_name);
      if (auto problem = fields.display_name ? domain::display_text_problem(*fields.display_name)
                                             : std::nullopt) {
        errors[key] = *problem;
      } else if (fields.display_name
                 && !domain::clean_display_text(*fields.display_name,
                                                domain::max_api_key_name_length)) {
        errors[key] = "must be 1 to 100 characters";
      }
    } else if (key == "expires_at") {
      if (value.is_null()) {
        fields.cleared.emplace(domain::cleared_expires_at);
        continue;
      }
      text(key, value, fields.expires_at);
      if (fields.expires_at && !parse_iso8601(*fields.expires_at)) {
        errors[key] = "must be an ISO-8601 UTC time such as 2030-01-01T00:00:00Z";
      }
    } else if (key == "policy") {
      if (value.is_null()) {
        fields.cleared.insert(domain::api_key_policy_members.begin(),
                              domain::api_key_policy_members.end());
        continue;
      }
      if (!value.is_object()) {
        errors[key] = "must be an object or null";
        continue;
      }
      domain::api_key_policy policy;
      for (const auto& [member, item] : value.items()) {
        const std::string field = "policy." + member;
        if (item.is_null()) {
          if (domain::is_one_of(domain::api_key_policy_members, member)) {
            fields.cleared.insert(member);
          } else {
            errors[field] = "is not a known field";
          }
          continue;
        }
        if (member == domain::cleared_allowed_models) {
          if (!item.is_array()) {
            errors[field] = "must be an array of model names or null";
            continue;
          }
          std::vector<std::string> models;
          for (const auto& model : item) {
            if (!model.is_string()) {
              errors[field] = "must be an array of model names or null";
              break;
            }
            models.push_back(model.get<std::string>());
          }
          policy.allowed_models = std::move(models);
        } else if (member == domain::cleared_enforced_model) {
          text(field, item, policy.enforced_model);
        } else if (member == domain::cleared_max_reasoning_effort) {
          text(field, item, policy.max_reasoning_effort);
        } else if (member == domain::cleared_enforced_reasoning_effort) {
          text(field, item, policy.enforced_reasoning_effort);
        } else if (member == domain::cleared_max_requests_per_minute) {
          if (!is_integer_in(item, std::numeric_limits<int32_t>::max())) {
            errors[field] = "must be an integer greater than 0";
            continue;
          }
          policy.max_requests_per_minute = static_cast<int32_t>(item.get<int64_t>());
        } else if (member == domain::cleared_max_tokens_per_day
                   || member == domain::cleared_max_tokens_per_week) {
          if (!is_integer_in(item, std::numeric_limits<int64_t>::max())) {
            errors[field] = "must be an integer greater than 0";
            continue;
          }
          (member == domain::cleared_max_tokens_per_day ? policy.max_tokens_per_day
                                                        : policy.max_tokens_per_week) =
            item.get<int64_t>();
        } else {
          errors[field] = "is not a known field";
        }
      }
      // Member-wise checks only: exclusivity and enforced-in-allowed depend on the stored policy.
      std::map<std::string, std::string> value_errors;
      auto check_alone = [&](auto member) {
        domain::api_key_policy single;
        single.*member = policy.*member;
        domain::check_api_key_policy(single, value_errors);
      };
      check_alone(&domain::api_key_policy::allowed_models);
      check_alone(&domain::api_key_policy::enforced_model);
      check_alone(&domain::api_key_policy::max_reasoning_effort);
      check_alone(&domain::api_key_policy::enforced_reasoning_effort);
      check_alone(&domain::api_key_policy::max_requests_per_minute);
      check_alone(&domain::api_key_policy::max_tokens_per_day);
      check_alone(&domain::api_key_policy::max_tokens_per_week);
      errors.insert(value_errors.begin(), value_errors.end());
      fields.policy = std::move(policy);
    } else {
      errors[key] = "is not a known field";
    }
  }
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  return fields;
}

} // namespace cxp::edge
