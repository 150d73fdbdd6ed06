#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "persistence/pricing/pricing_repository.hpp"

namespace cxp::domain {

/// The largest feed accepted (the published one is about 64 KiB).
inline constexpr size_t max_pricing_feed_bytes = 8u << 20;

/// A pricing feed that passed validation, ready to be stored as one snapshot.
struct pricing_feed {
  std::string price_version; ///< `generated_at` as published
  std::string effective_at;  ///< `generated_at` in our fixed-width ISO-8601
  /// One row per (model, tier, bucket) the feed prices; `snapshot_id` left empty.
  std::vector<persistence::model_price_row> prices;
  int64_t model_count = 0; ///< models with at least one token price
};

/// Parses and validates a feed in the `openai-json-pricing` format (root `generated_at`,
/// `models`, optional `models_count`; each model `model`, `pricing_type`, `prices.<tier>.<bucket>`
/// with `input`, `cached_input`, `cache_write`, `output`, `reasoning` in USD per 1M tokens, or
/// `{"available": false}`). Only `per_1m_tokens` models and the tiers standard, batch, flex and
/// fast (`priority` is the same tier and must agree with `fast`) in the buckets default,
/// short_context and long_context become prices; other models, tiers and buckets are left out.
/// A missing `reasoning` price is the `output` price; other missing rates are 0. Refused, with
/// `errc::invalid_request` whose context names the first problem: text that is not a JSON
/// object or is larger than `max_pricing_feed_bytes`, a missing or malformed `generated_at`, a
/// `models_count` that does not match, a model without an identifier, a duplicate identifier, a
/// rate that is not a non-negative number with at most six decimals (or above
/// `max_rate_micros_per_mtok`), a priced bucket with neither an input nor an output price, or no
/// token-priced model at all. Pure.
caf::expected<pricing_feed> parse_pricing_feed(std::string_view text);

/// A feed price (USD per 1M tokens, a JSON number) in micro-USD per million tokens, exactly:
/// the number's shortest decimal form scaled by 10^6. Nullopt for anything that is not a
/// number, is negative, has more than six decimals or exceeds `max_rate_micros_per_mtok`.
std::optional<int64_t> to_micros_per_mtok(const nlohmann::json& usd_per_mtok);

} // namespace cxp::domain
