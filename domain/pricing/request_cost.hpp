#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/pricing/price_book.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::domain {

/// Input tokens above which a model with a long-context price is billed at it.
inline constexpr int64_t long_context_threshold_tokens = 272'000;

/// The most tokens of any kind one request is priced for. With rates capped at
/// `max_rate_micros_per_mtok` the cost formula cannot overflow 64 bits; a larger count (a
/// garbled usage report) leaves the request unpriced.
inline constexpr int64_t max_priced_tokens = 100'000'000;

/// The highest rate a feed may publish, in micro-USD per million tokens (10,000 USD per 1M).
inline constexpr int64_t max_rate_micros_per_mtok = 10'000'000'000;

/// The token counts an upstream reported for one request, as OpenAI counts them: `input`
/// includes `cached_input` (and `cache_write`), `output` includes `reasoning`.
struct token_usage {
  int64_t input = 0;
  int64_t cached_input = 0;
  int64_t cache_write = 0;
  int64_t output = 0;
  int64_t reasoning = 0;
};

/// Whether a request log row carries a cost.
enum class pricing_status : uint8_t {
  priced,         ///< cost_micros is the cost at the snapshot's prices
  unpriced,       ///< tokens were used but the snapshot has no price for them
  not_applicable, ///< no token usage to price (a failure, a rejection, a metadata request)
};

std::string_view to_string(pricing_status status);

/// What one request costs.
struct request_price {
  pricing_status status = pricing_status::not_applicable;
  std::optional<int64_t> cost_micros;     ///< set when priced
  std::optional<std::string> snapshot_id; ///< the snapshot consulted (priced or unpriced)
  std::optional<price_bucket> bucket;     ///< set when priced
  std::string unpriced_reason;            ///< why not, when unpriced (for logs)
};

/// The bucket a request of `input_tokens` is billed in, among those `model` has in `tier`:
/// `long_context` when the input exceeds `long_context_threshold_tokens` and the tier lists
/// one, else `default`, else `short_context`. Nullopt when the tier lists neither. The entry
/// chosen may be unavailable; the caller decides what that means.
std::optional<price_bucket> select_bucket(const price_book& book, const std::string& model,
                                          service_tier tier, int64_t input_tokens);

/// Cost in micro-USD of `usage` at `rates` (notes §9.2):
///   (input − cached − cache_write)⁺ × input + min(cached, input) × cached_input
///   + cache_write × cache_write + (output − reasoning)⁺ × output + min(reasoning, output) ×
///   reasoning
/// summed exactly in micro-USD per million tokens and rounded once, half up, to whole micro-USD.
/// Precondition: every count within 0..`max_priced_tokens`, every rate within
/// 0..`max_rate_micros_per_mtok`.
int64_t cost_micros(const persistence::token_rates& rates, const token_usage& usage);

/// Prices one finished request: the model resolved in `book` (exact, then provider-qualified),
/// the tier from the client's `service_tier` (`billed_tier`), the bucket from its input
/// (`select_bucket`). Without `usage` it is `not_applicable`; with usage and no model, no book,
/// an unknown model, tier or bucket, an unavailable price or counts out of range it is
/// `unpriced`. Never guesses a price.
request_price price_request(const price_book& book, const std::optional<std::string>& model,
                            const std::optional<std::string>& requested_tier,
                            const std::optional<token_usage>& usage);

/// The usage a finished request's log row reports, or nullopt when it reported neither input nor
/// output tokens (a failure, a rejection, a metadata request).
std::optional<token_usage> usage_of(const persistence::request_log_row& row);

/// Fills the pricing columns of `row` (cost, snapshot, status) with `price_request` over its
/// model, service tier and usage. A row that already has a status is left as it is.
void price_log_row(const price_book& book, persistence::request_log_row& row);

} // namespace cxp::domain
