#include "edge/routes/codex/codex_login.hpp"

#include <chrono>

#include "common/encoding.hpp"

namespace cxp::edge {

using nlohmann::json;

std::string codex_account_id(const domain::api_key_view& key) {
  return "cxp-" + key.key_prefix;
}

json accounts_check_document(const domain::api_key_view& key, const std::string& plan_type,
                             const std::string& origin) {
  const auto id = codex_account_id(key);
  return {{"accounts", json::array({{{"id", id},
                                     {"plan_type", plan_type},
                                     {"name", key.display_name},
                                     {"structure", "personal"},
                                     {"workspace_backend_origin", origin},
                                     {"account_routing_override", "NO_CONSTRAINT"}}})},
          {"account_ordering", json::array({id})},
          {"default_account_id", id}};
}

std::string client_facing_origin(std::string_view forwarded_host, std::string_view host) {
  auto chosen = forwarded_host.substr(0, forwarded_host.find(','));
  while (!chosen.empty() && chosen.front() == ' ') {
    chosen.remove_prefix(1);
  }
  while (!chosen.empty() && chosen.back() == ' ') {
    chosen.remove_suffix(1);
  }
  if (chosen.empty()) {
    chosen = host;
  }
  return chosen.empty() ? std::string{} : "https://" + std::string{chosen};
}

json codex_auth_json(std::string_view raw_key, const domain::api_key_view& key,
                     const std::string& plan_type, time_point now) {
  const auto id = codex_account_id(key);
  const auto issued = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  // The CLI reads the id token's claims (account, plan, e-mail) and never verifies it: an
  // unsigned JWT, valid for ten years, like the fake upstream's.
  const json header = {{"alg", "none"}, {"typ", "JWT"}};
  const json claims = {
    {"iat", issued.count()},
    {"exp", issued.count() + 10LL * 365 * 24 * 3600},
    {"email", key.key_prefix + "@codex-pooler.invalid"},
    {"https://api.openai.com/auth",
     {{"chatgpt_account_id", id}, {"chatgpt_plan_type", plan_type}, {"chatgpt_user_id", id}}}};
  const auto id_token =
    to_base64url(header.dump()) + "." + to_base64url(claims.dump()) + ".codex-pooler";
  return {{"auth_mode", "chatgpt"},
          {"OPENAI_API_KEY", nullptr},
          {"tokens",
           {{"id_token", id_token},
            {"access_token", std::string{raw_key}},
            {"refresh_token", "codex-pooler-no-refresh"},
            {"account_id", id}}},
          {"last_refresh", to_iso8601(now)}};
}

} // namespace cxp::edge
