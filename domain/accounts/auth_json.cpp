#include "domain/accounts/auth_json.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "common/json_input.hpp"

namespace cxp::domain {

namespace {

using json = nlohmann::json;

constexpr std::string_view api_key_message =
  "this auth.json holds an API key, not a ChatGPT login; run `codex login` with ChatGPT";
constexpr std::string_view other_mode_message =
  "is not a ChatGPT login; run `codex login` with ChatGPT";
constexpr std::string_view personal_token_prefix = "at-";
// Far beyond any real expiry, yet small enough that the chrono conversion cannot overflow.
constexpr double max_jwt_exp_seconds = 1e11;

/// A non-empty string member of `object`, else nullopt (wrong types count as absent: claims are
/// informational and the issuer's, not the operator's).
std::optional<std::string> string_member(const json& object, std::string_view key) {
  if (!object.is_object()) {
    return std::nullopt;
  }
  const auto found = object.find(std::string{key});
  if (found == object.end() || !found->is_string()
      || found->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return found->get<std::string>();
}

std::optional<std::string> auth_claim(const std::optional<json>& claims, std::string_view key) {
  if (!claims || !claims->is_object()) {
    return std::nullopt;
  }
  const auto found = claims->find(std::string{openai_auth_claim});
  if (found == claims->end()) {
    return std::nullopt;
  }
  return string_member(*found, key);
}

std::optional<std::string> email_claim(const std::optional<json>& claims) {
  if (!claims || !claims->is_object()) {
    return std::nullopt;
  }
  if (auto email = string_member(*claims, "email")) {
    return email;
  }
  const auto profile = claims->find(std::string{openai_profile_claim});
  if (profile == claims->end()) {
    return std::nullopt;
  }
  return string_member(*profile, "email");
}

/// The first claim found in the id_token, then in the access token.
template <class Lookup>
std::optional<std::string> first_of(const std::optional<json>& id_claims,
                                    const std::optional<json>& access_claims, Lookup&& lookup) {
  if (auto value = lookup(id_claims)) {
    return value;
  }
  return lookup(access_claims);
}

std::optional<time_point> expiry_of(const std::optional<json>& claims) {
  if (!claims || !claims->is_object()) {
    return std::nullopt;
  }
  const auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) {
    return std::nullopt;
  }
  const auto seconds = exp->get<double>();
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > max_jwt_exp_seconds) {
    return std::nullopt;
  }
  return time_point{std::chrono::seconds{static_cast<int64_t>(seconds)}};
}

bool is_present(const json& document, std::string_view key) {
  const auto found = document.find(std::string{key});
  return found != document.end() && !found->is_null();
}

/// Rejects every login that is not a ChatGPT one; nullopt when the file is a ChatGPT login.
std::optional<caf::error> reject_non_chatgpt(const json& document) {
  const auto api_key = document.find("OPENAI_API_KEY");
  if (api_key != document.end() && !api_key->is_null()
      && !(api_key->is_string() && api_key->get_ref<const std::string&>().empty())) {
    return make_validation_error({{"OPENAI_API_KEY", std::string{api_key_message}}});
  }
  const auto mode = document.find("auth_mode");
  if (mode != document.end() && !mode->is_null()) {
    const auto normalized =
      mode->is_string() ? ascii_lowercase(mode->get<std::string>()) : std::string{};
    if (normalized == "apikey" || normalized == "api_key") {
      return make_validation_error({{"auth_mode", std::string{api_key_message}}});
    }
    if (normalized != "chatgpt" && normalized != "chat_gpt") {
      return make_validation_error({{"auth_mode", std::string{other_mode_message}}});
    }
  }
  if (is_present(document, "personal_access_token")
      || is_present(document, "personalAccessToken")) {
    return make_validation_error({{"personal_access_token", std::string{other_mode_message}}});
  }
  return std::nullopt;
}

} // namespace

std::optional<nlohmann::json> decode_jwt_claims(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos || first == 0) {
    return std::nullopt;
  }
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || second == first + 1
      || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const auto payload = from_base64(token.substr(first + 1, second - first - 1));
  if (!payload) {
    return std::nullopt;
  }
  json claims;
  if (parse_untrusted(*payload, claims) || !claims.is_object()) {
    return std::nullopt;
  }
  return claims;
}

caf::expected<parsed_auth_json> parse_auth_json(std::string_view text) {
  if (text.size() > max_auth_json_bytes) {
    return make_validation_error({{"auth_json", "must be at most 64 KiB"}});
  }
  json document;
  if (parse_untrusted(text, document) || !document.is_object()) {
    return make_validation_error(
      {{"auth_json", "must be a JSON object (the contents of ~/.codex/auth.json)"}});
  }
  if (auto rejected = reject_non_chatgpt(document)) {
    return std::move(*rejected);
  }
  std::map<std::string, std::string> fields;
  const auto tokens_it = document.find("tokens");
  if (tokens_it == document.end() || !tokens_it->is_object()) {
    return make_validation_error({{"tokens.access_token", "is required"},
                                  {"tokens.refresh_token", "is required"},
                                  {"tokens.id_token", "is required"}});
  }
  const auto& tokens = *tokens_it;
  const auto access_token = string_member(tokens, "access_token");
  const auto refresh_token = string_member(tokens, "refresh_token");
  const auto id_token = string_member(tokens, "id_token");
  if (!access_token) {
    fields["tokens.access_token"] = "is required";
  } else if (access_token->rfind(personal_token_prefix, 0) == 0) {
    fields["tokens.access_token"] = "is a personal access token, not a ChatGPT login";
  }
  if (!refresh_token) {
    fields["tokens.refresh_token"] = "is required";
  }
  std::optional<json> id_claims;
  if (!id_token) {
    fields["tokens.id_token"] = "is required";
  } else if (id_claims = decode_jwt_claims(*id_token); !id_claims) {
    fields["tokens.id_token"] = "must be a JWT (header.payload.signature)";
  }
  const auto access_claims = access_token ? decode_jwt_claims(*access_token) : std::nullopt;
  const auto account_field = tokens.find("account_id");
  if (account_field != tokens.end() && !account_field->is_null() && !account_field->is_string()) {
    fields["tokens.account_id"] = "must be a string";
  }
  auto account_id = string_member(tokens, "account_id");
  if (!account_id) {
    account_id = first_of(id_claims, access_claims, [](const std::optional<json>& claims) {
      return auth_claim(claims, "chatgpt_account_id");
    });
  }
  if (!account_id && id_claims && !fields.count("tokens.account_id")) {
    fields["tokens.account_id"] = "is missing, and the id_token has no chatgpt_account_id claim";
  }
  if (!fields.empty()) {
    return make_validation_error(std::move(fields));
  }
  parsed_auth_json parsed;
  parsed.access_token = secret<std::string>{*access_token};
  parsed.refresh_token = secret<std::string>{*refresh_token};
  parsed.chatgpt_account_id = *account_id;
  parsed.chatgpt_user_id =
    first_of(id_claims, access_claims, [](const std::optional<json>& claims) {
      auto user = auth_claim(claims, "chatgpt_user_id");
      return user ? user : auth_claim(claims, "user_id");
    });
  parsed.email = first_of(id_claims, access_claims, email_claim);
  parsed.plan_type = first_of(id_claims, access_claims, [](const std::optional<json>& claims) {
    return auth_claim(claims, "chatgpt_plan_type");
  });
  parsed.access_token_expires_at = expiry_of(access_claims);
  if (auto last_refresh = string_member(document, "last_refresh")) {
    parsed.last_refresh = parse_iso8601(*last_refresh);
  }
  return parsed;
}

caf::expected<std::vector<std::pair<std::string, std::string>>>
split_auth_json_bundle(std::string_view text, const std::string& single_name) {
  json document;
  if (parse_untrusted(text, document)) {
    return make_validation_error(
      {{"auth_json", "must be JSON: one auth.json object or an array of them"}});
  }
  std::vector<std::pair<std::string, std::string>> items;
  if (document.is_object()) {
    items.emplace_back(single_name, std::string{text});
    return items;
  }
  if (!document.is_array() || document.empty()) {
    return make_validation_error(
      {{"auth_json", "must be one auth.json object or a non-empty array of them"}});
  }
  for (size_t i = 0; i < document.size(); ++i) {
    items.emplace_back("[" + std::to_string(i) + "]", document[i].dump());
  }
  return items;
}

} // namespace cxp::domain
