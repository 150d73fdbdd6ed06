#pragma once

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/keys/api_key_service.hpp"
#include "domain/pools/pool_service.hpp"

namespace cxp::edge {

/// Parses a JSON object into pool fields; unknown keys and wrong types -> validation error naming
/// the field (a JSON null counts as a wrong type), then the values are checked with
/// `domain::check_pool_fields` so one answer names every bad field. `slug` is lower-cased.
/// Shared by the admin API and the CLI.
caf::expected<domain::pool_fields> parse_pool_fields(const nlohmann::json& body);

/// Parses `{"pool_id", "display_name", "expires_at", "policy": {"allowed_models",
/// "enforced_model", "max_reasoning_effort", "enforced_reasoning_effort",
/// "max_requests_per_minute", "max_tokens_per_day", "max_tokens_per_week"}}`. A JSON null for
/// `expires_at` or a policy member puts its name into `cleared`; `"policy": null` clears every
/// policy member. Unknown keys, wrong types and bad values -> validation error naming the field
/// ("policy.<member>" for policy members). Checks that need the stored key or the clock (mutual
/// exclusion after merging, expiry in the future) are left to the service.
caf::expected<domain::api_key_fields> parse_api_key_fields(const nlohmann::json& body);

} // namespace cxp::edge
