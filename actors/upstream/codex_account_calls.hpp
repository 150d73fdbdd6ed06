#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/upstream/upstream_client.hpp"

namespace cxp::actors {

/// Whose behalf an account call is made on.
struct account_caller {
  std::string_view access_token;
  std::string_view chatgpt_account_id;
};

/// `GET {base}/codex/models?client_version=…`: the models the account may use.
upstream_request catalog_request(const std::string& upstream_base_url, account_caller caller);

/// `GET {base}/wham/usage`: the account's quota windows and plan.
upstream_request usage_request(const std::string& upstream_base_url, account_caller caller);

/// The model entries (objects with a string `slug`) of a catalog answer's body, or nullopt when
/// the body is not a catalog.
std::optional<std::vector<nlohmann::json>> parse_catalog(std::string_view body);

} // namespace cxp::actors
