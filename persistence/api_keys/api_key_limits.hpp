#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cxp::persistence {

/// The limits of one API key as `api_keys` stores them, and as the domain's `api_key_policy`
/// holds them (which adds the allowed models, stored as JSON text). Unset means no limit.
struct api_key_limits {
  std::optional<std::string> enforced_model;
  std::optional<std::string> max_reasoning_effort;
  std::optional<std::string> enforced_reasoning_effort;
  std::optional<int32_t> max_requests_per_minute;
  std::optional<int64_t> max_tokens_per_day;
  std::optional<int64_t> max_tokens_per_week;
};

} // namespace cxp::persistence
