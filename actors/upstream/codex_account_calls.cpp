#include "actors/upstream/codex_account_calls.hpp"

#include "actors/upstream/codex_identity.hpp"

namespace cxp::actors {

namespace {

constexpr std::chrono::seconds account_call_first_byte{30};

upstream_request account_get(std::string url, account_caller caller) {
  upstream_request request;
  request.method = boost::beast::http::verb::get;
  request.url = std::move(url);
  request.headers = {{"authorization", "Bearer " + std::string{caller.access_token}},
                     {"chatgpt-account-id", std::string{caller.chatgpt_account_id}},
                     {"originator", std::string{codex_originator}},
                     {"user-agent", std::string{codex_user_agent}},
                     {"accept", "application/json"}};
  request.timeouts.first_byte = account_call_first_byte;
  return request;
}

} // namespace

upstream_request catalog_request(const std::string& upstream_base_url, account_caller caller) {
  return account_get(upstream_base_url
                       + "/codex/models?client_version=" + std::string{codex_client_version},
                     caller);
}

upstream_request usage_request(const std::string& upstream_base_url, account_caller caller) {
  return account_get(upstream_base_url + "/wham/usage", caller);
}

std::optional<std::vector<nlohmann::json>> parse_catalog(std::string_view body) {
  auto document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("models") || !document["models"].is_array()) {
    return std::nullopt;
  }
  std::vector<nlohmann::json> models;
  for (auto& model : document["models"]) {
    if (model.is_object() && model.contains("slug") && model["slug"].is_string()) {
      models.push_back(std::move(model));
    }
  }
  return models;
}

} // namespace cxp::actors
