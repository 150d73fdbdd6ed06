#include "domain/keys/api_key.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "domain/admin_context.hpp"
#include "domain/admin_input.hpp"
#include "persistence/api_keys/api_key_repository.hpp"

namespace cxp::domain {

namespace {

constexpr std::array<std::string_view, 6> reasoning_efforts = {"none",   "minimal", "low",
                                                               "medium", "high",    "xhigh"};
constexpr size_t max_model_name_length = 200;
constexpr size_t max_allowed_models = 256;
/// base64url characters of 32 bytes without padding.
constexpr size_t api_key_secret_chars = 43;

std::optional<std::vector<std::string>>
models_from_storage(const std::optional<std::string>& stored) {
  if (!stored) {
    return std::nullopt;
  }
  std::vector<std::string> models;
  auto parsed = nlohmann::json::parse(*stored, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    // Unreadable means deny-all, never allow-all.
    return models;
  }
  for (const auto& item : parsed) {
    if (item.is_string()) {
      models.push_back(item.get<std::string>());
    }
  }
  return models;
}

template <class T>
nlohmann::json nullable(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

} // namespace

std::optional<std::string> scheme_token_prefix(std::string_view raw, std::string_view scheme) {
  const size_t prefix_length = scheme.size() + api_key_prefix_hex;
  if (raw.size() != prefix_length + 1 + api_key_secret_chars
      || raw.substr(0, scheme.size()) != scheme || raw[prefix_length] != '-') {
    return std::nullopt;
  }
  for (size_t i = scheme.size(); i < prefix_length; ++i) {
    const char c = raw[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  for (size_t i = prefix_length + 1; i < raw.size(); ++i) {
    if (!is_base64url_char(raw[i])) {
      return std::nullopt;
    }
  }
  return std::string{raw.substr(0, prefix_length)};
}

std::optional<parsed_api_key> parse_api_key(std::string_view raw) {
  auto prefix = scheme_token_prefix(raw, api_key_scheme);
  if (!prefix) {
    return std::nullopt;
  }
  return parsed_api_key{std::move(*prefix)};
}

nlohmann::json to_json(const api_key_view& view) {
  const auto& policy = view.policy;
  return nlohmann::json{{"id", view.id},
                        {"pool_id", view.pool_id},
                        {"display_name", view.display_name},
                        {"key_prefix", view.key_prefix},
                        {"status", view.status},
                        {"revocation_epoch", view.revocation_epoch},
                        {"expires_at", nullable(view.expires_at)},
                        {"last_used_at", nullable(view.last_used_at)},
                        {"revoked_at", nullable(view.revoked_at)},
                        {"policy",
                         {{"allowed_models", nullable(policy.allowed_models)},
                          {"enforced_model", nullable(policy.enforced_model)},
                          {"max_reasoning_effort", nullable(policy.max_reasoning_effort)},
                          {"enforced_reasoning_effort", nullable(policy.enforced_reasoning_effort)},
                          {"max_requests_per_minute", nullable(policy.max_requests_per_minute)},
                          {"max_tokens_per_day", nullable(policy.max_tokens_per_day)},
                          {"max_tokens_per_week", nullable(policy.max_tokens_per_week)}}},
                        {"created_at", view.created_at},
                        {"updated_at", view.updated_at}};
}

api_key_view to_view(const persistence::api_key_row& row) {
  return api_key_view{row.id,         row.pool_id,          row.display_name, row.key_prefix,
                      row.status,     row.revocation_epoch, row.expires_at,   row.last_used_at,
                      row.revoked_at, policy_of(row),       row.created_at,   row.updated_at};
}

api_key_policy policy_of(const persistence::api_key_row& row) {
  return api_key_policy{row, models_from_storage(row.allowed_models)};
}

void check_api_key_policy(const api_key_policy& policy,
                          std::map<std::string, std::string>& errors) {
  auto model_name_ok = [](const std::string& name) {
    return clean_display_text(name, max_model_name_length) == name;
  };
  if (policy.allowed_models) {
    if (policy.allowed_models->size() > max_allowed_models) {
      errors["policy.allowed_models"] = "must list at most 256 models";
    }
    for (const auto& model : *policy.allowed_models) {
      if (!model_name_ok(model)) {
        errors["policy.allowed_models"] =
          "must hold model names of 1 to 200 characters without surrounding spaces";
      }
    }
  }
  if (policy.enforced_model && !model_name_ok(*policy.enforced_model)) {
    errors["policy.enforced_model"] = "must be 1 to 200 characters without surrounding spaces";
  }
  const char* efforts_message = "must be one of none, minimal, low, medium, high, xhigh";
  if (policy.max_reasoning_effort && !is_one_of(reasoning_efforts, *policy.max_reasoning_effort)) {
    errors["policy.max_reasoning_effort"] = efforts_message;
  }
  if (policy.enforced_reasoning_effort
      && !is_one_of(reasoning_efforts, *policy.enforced_reasoning_effort)) {
    errors["policy.enforced_reasoning_effort"] = efforts_message;
  }
  if (policy.max_reasoning_effort && policy.enforced_reasoning_effort) {
    errors["policy.enforced_reasoning_effort"] = "cannot be combined with max_reasoning_effort";
  }
  if (policy.max_requests_per_minute && *policy.max_requests_per_minute <= 0) {
    errors["policy.max_requests_per_minute"] = "must be greater than 0";
  }
  if (policy.max_tokens_per_day && *policy.max_tokens_per_day <= 0) {
    errors["policy.max_tokens_per_day"] = "must be greater than 0";
  }
  if (policy.max_tokens_per_week && *policy.max_tokens_per_week <= 0) {
    errors["policy.max_tokens_per_week"] = "must be greater than 0";
  }
  if (policy.enforced_model && policy.allowed_models
      && errors.count("policy.enforced_model") == 0) {
    const auto& allowed = *policy.allowed_models;
    if (std::find(allowed.begin(), allowed.end(), *policy.enforced_model) == allowed.end()) {
      errors["policy.enforced_model"] = "must be one of allowed_models";
    }
  }
}

} // namespace cxp::domain
