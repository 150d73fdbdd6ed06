#include "domain/pricing/request_cost.hpp"

#include <algorithm>

namespace cxp::domain {

namespace {

constexpr int64_t micros_per_mtok_per_micro = 1'000'000;

bool counts_in_range(const token_usage& usage) {
  for (const auto count :
       {usage.input, usage.cached_input, usage.cache_write, usage.output, usage.reasoning}) {
    if (count < 0 || count > max_priced_tokens) {
      return false;
    }
  }
  return true;
}

bool rates_in_range(const persistence::token_rates& rates) {
  for (const auto rate :
       {rates.input, rates.cached_input, rates.cache_write, rates.output, rates.reasoning}) {
    if (rate < 0 || rate > max_rate_micros_per_mtok) {
      return false;
    }
  }
  return true;
}

request_price unpriced(const price_book& book, std::string reason) {
  request_price out;
  out.status = pricing_status::unpriced;
  if (!book.snapshot_id().empty()) {
    out.snapshot_id = book.snapshot_id();
  }
  out.unpriced_reason = std::move(reason);
  return out;
}

} // namespace

std::string_view to_string(pricing_status status) {
  switch (status) {
  case pricing_status::priced:
    return "priced";
  case pricing_status::unpriced:
    return "unpriced";
  case pricing_status::not_applicable:
    return "not_applicable";
  }
  return "not_applicable";
}

std::optional<price_bucket> select_bucket(const price_book& book, const std::string& model,
                                          service_tier tier, int64_t input_tokens) {
  if (input_tokens > long_context_threshold_tokens
      && book.find(model, tier, price_bucket::long_context) != nullptr) {
    return price_bucket::long_context;
  }
  for (const auto bucket : {price_bucket::default_bucket, price_bucket::short_context}) {
    if (book.find(model, tier, bucket) != nullptr) {
      return bucket;
    }
  }
  return std::nullopt;
}

int64_t cost_micros(const persistence::token_rates& rates, const token_usage& usage) {
  const auto cached = std::min(usage.cached_input, usage.input);
  const auto uncached = std::max<int64_t>(0, usage.input - cached - usage.cache_write);
  const auto reasoning = std::min(usage.reasoning, usage.output);
  const auto visible_output = usage.output - reasoning;
  // Micro-USD per million tokens times tokens: millionths of a micro-USD, exact in 64 bits
  // under the documented bounds.
  const int64_t exact = uncached * rates.input + cached * rates.cached_input
                        + usage.cache_write * rates.cache_write + visible_output * rates.output
                        + reasoning * rates.reasoning;
  return (exact + micros_per_mtok_per_micro / 2) / micros_per_mtok_per_micro;
}

request_price price_request(const price_book& book, const std::optional<std::string>& model,
                            const std::optional<std::string>& requested_tier,
                            const std::optional<token_usage>& usage) {
  if (!usage) {
    return {};
  }
  if (book.empty()) {
    return unpriced(book, "no pricing snapshot imported");
  }
  if (!model || model->empty()) {
    return unpriced(book, "no model");
  }
  const auto resolved = book.resolve_model(*model);
  if (!resolved) {
    return unpriced(book, "model not in the snapshot");
  }
  const auto tier = billed_tier(requested_tier);
  if (!tier) {
    return unpriced(book, "unknown service tier");
  }
  if (!counts_in_range(*usage)) {
    return unpriced(book, "token counts out of range");
  }
  const auto bucket = select_bucket(book, *resolved, *tier, usage->input);
  if (!bucket) {
    return unpriced(book, "no price for the service tier");
  }
  const auto* entry = book.find(*resolved, *tier, *bucket);
  if (entry == nullptr || !entry->available) {
    return unpriced(book,
                    "the tier's " + std::string{to_string(*bucket)} + " price is not offered");
  }
  if (!rates_in_range(entry->rates)) {
    return unpriced(book, "stored rates out of range");
  }
  request_price out;
  out.status = pricing_status::priced;
  out.cost_micros = cost_micros(entry->rates, *usage);
  out.snapshot_id = book.snapshot_id();
  out.bucket = bucket;
  return out;
}

std::optional<token_usage> usage_of(const persistence::request_log_row& row) {
  if (!row.input_tokens && !row.output_tokens) {
    return std::nullopt;
  }
  token_usage usage;
  usage.input = row.input_tokens.value_or(0);
  usage.cached_input = row.cached_input_tokens.value_or(0);
  usage.output = row.output_tokens.value_or(0);
  usage.reasoning = row.reasoning_tokens.value_or(0);
  return usage;
}

void price_log_row(const price_book& book, persistence::request_log_row& row) {
  if (row.pricing_status) {
    return;
  }
  auto price = price_request(book, row.model, row.service_tier, usage_of(row));
  row.cost_micros = price.cost_micros;
  row.pricing_snapshot_id = price.snapshot_id;
  row.pricing_status = std::string{to_string(price.status)};
}

} // namespace cxp::domain
