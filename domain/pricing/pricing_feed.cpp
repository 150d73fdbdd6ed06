#include "domain/pricing/pricing_feed.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "common/json_input.hpp"
#include "domain/pricing/price_book.hpp"
#include "domain/pricing/request_cost.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr std::string_view token_pricing_type = "per_1m_tokens";
constexpr size_t max_model_identifier_length = 200;
constexpr size_t max_price_version_length = 64;
constexpr int max_rate_decimals = 6;
constexpr int64_t micros_per_usd = 1'000'000;

/// A rate member of a priced bucket and where its value lands.
struct rate_field {
  std::string_view name;
  int64_t persistence::token_rates::*member;
};

constexpr std::array<rate_field, 5> rate_fields = {{
  {"input", &persistence::token_rates::input},
  {"cached_input", &persistence::token_rates::cached_input},
  {"cache_write", &persistence::token_rates::cache_write},
  {"output", &persistence::token_rates::output},
  {"reasoning", &persistence::token_rates::reasoning},
}};

caf::error refuse(std::string reason) {
  return make_error(errc::invalid_request, std::move(reason));
}

/// "12.5" (digits, an optional fraction) scaled by 10^6; nullopt beyond six decimals.
std::optional<int64_t> scale_decimal(std::string_view text) {
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > static_cast<size_t>(max_rate_decimals)) {
    return std::nullopt;
  }
  int64_t units = 0;
  if (auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), units);
      ec != std::errc{} || end != whole.data() + whole.size()) {
    return std::nullopt;
  }
  if (units > max_rate_micros_per_mtok / micros_per_usd) {
    return std::nullopt;
  }
  int64_t millionths = 0;
  for (int i = 0; i < max_rate_decimals; ++i) {
    const char digit = static_cast<size_t>(i) < fraction.size() ? fraction[i] : '0';
    if (digit < '0' || digit > '9') {
      return std::nullopt;
    }
    millionths = millionths * 10 + (digit - '0');
  }
  const auto scaled = units * micros_per_usd + millionths;
  return scaled <= max_rate_micros_per_mtok ? std::optional<int64_t>{scaled} : std::nullopt;
}

bool is_model_identifier(std::string_view name) {
  return !name.empty() && name.size() <= max_model_identifier_length
         && std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

/// The prices of one bucket, or the reason it is malformed. `where` names it in that reason.
caf::expected<persistence::model_price_row> parse_bucket(const json& bucket,
                                                         const std::string& where) {
  if (!bucket.is_object()) {
    return refuse(where + " must be an object");
  }
  persistence::model_price_row row;
  if (auto available = bucket.find("available"); available != bucket.end()) {
    if (!available->is_boolean()) {
      return refuse(where + ".available must be true or false");
    }
    row.available = available->get<bool>();
  }
  if (!row.available) {
    return row;
  }
  for (const auto& field : rate_fields) {
    auto value = bucket.find(field.name);
    if (value == bucket.end()) {
      continue;
    }
    auto rate = to_micros_per_mtok(*value);
    if (!rate) {
      return refuse(where + "." + std::string{field.name}
                    + " must be a non-negative number of USD per 1M tokens with at most 6 "
                      "decimals");
    }
    row.*field.member = *rate;
  }
  if (!bucket.contains("input") && !bucket.contains("output")) {
    return refuse(where + " has neither an input nor an output price");
  }
  if (!bucket.contains("reasoning")) {
    row.reasoning = row.output;
  }
  return row;
}

bool same_prices(const persistence::model_price_row& a, const persistence::model_price_row& b) {
  return a.available == b.available && a.input == b.input && a.cached_input == b.cached_input
         && a.cache_write == b.cache_write && a.output == b.output && a.reasoning == b.reasoning;
}

/// Appends the rows of one token-priced model to `out`: how many, or why its prices are
/// malformed.
caf::expected<size_t> parse_model_prices(const std::string& model, const json& prices,
                                         std::vector<persistence::model_price_row>& out) {
  // Rows by (tier, bucket), so `priority` can be checked against `fast`.
  std::map<std::pair<std::string, std::string>, persistence::model_price_row> rows;
  for (const auto& [tier_name, buckets] : prices.items()) {
    const auto where_tier = "model \"" + model + "\": prices." + tier_name;
    if (!buckets.is_object()) {
      return refuse(where_tier + " must be an object");
    }
    const auto tier = parse_service_tier(tier_name);
    if (!tier) {
      continue;
    }
    for (const auto& [bucket_name, bucket] : buckets.items()) {
      if (!parse_price_bucket(bucket_name)) {
        continue;
      }
      auto row = parse_bucket(bucket, where_tier + "." + bucket_name);
      if (!row) {
        return row.error();
      }
      row->model = model;
      row->service_tier = std::string{to_string(*tier)};
      row->price_bucket = bucket_name;
      const auto key = std::pair{row->service_tier, row->price_bucket};
      if (auto seen = rows.find(key); seen != rows.end()) {
        if (!same_prices(seen->second, *row)) {
          return refuse("model \"" + model + "\": the fast and priority prices of " + bucket_name
                        + " disagree");
        }
        continue;
      }
      rows.emplace(key, std::move(*row));
    }
  }
  for (auto& [key, row] : rows) {
    out.push_back(std::move(row));
  }
  return rows.size();
}

} // namespace

std::optional<int64_t> to_micros_per_mtok(const json& usd_per_mtok) {
  if (usd_per_mtok.is_number_unsigned() || usd_per_mtok.is_number_integer()) {
    const auto whole = usd_per_mtok.get<int64_t>();
    if (whole < 0 || whole > max_rate_micros_per_mtok / micros_per_usd) {
      return std::nullopt;
    }
    return whole * micros_per_usd;
  }
  if (!usd_per_mtok.is_number_float()) {
    return std::nullopt;
  }
  const auto value = usd_per_mtok.get<double>();
  if (!(value >= 0)) {
    return std::nullopt;
  }
  // The shortest fixed-point text that reads back as the same double is the decimal the feed
  // wrote (for any price with up to 15 significant digits), so scaling that text is exact where
  // multiplying the double by 10^6 would round.
  std::array<char, 64> text{};
  auto [end, ec] =
    std::to_chars(text.data(), text.data() + text.size(), value + 0.0, std::chars_format::fixed);
  if (ec != std::errc{}) {
    return std::nullopt;
  }
  return scale_decimal(std::string_view{text.data(), static_cast<size_t>(end - text.data())});
}

caf::expected<pricing_feed> parse_pricing_feed(std::string_view text) {
  if (text.size() > max_pricing_feed_bytes) {
    return refuse("the feed is larger than " + std::to_string(max_pricing_feed_bytes) + " bytes");
  }
  json root;
  if (auto problem = parse_untrusted(text, root)) {
    return refuse("the feed is not JSON: " + problem->message);
  }
  if (!root.is_object()) {
    return refuse("the feed is not a JSON object");
  }
  pricing_feed feed;
  const auto generated_at = root.find("generated_at");
  if (generated_at == root.end() || !generated_at->is_string()) {
    return refuse("generated_at is missing or not a string");
  }
  feed.price_version = generated_at->get<std::string>();
  const auto effective = parse_iso8601(feed.price_version);
  if (!effective || feed.price_version.size() > max_price_version_length) {
    return refuse("generated_at is not an ISO-8601 UTC time");
  }
  feed.effective_at = to_iso8601(*effective);
  const auto models = root.find("models");
  if (models == root.end() || !models->is_object() || models->empty()) {
    return refuse("models is missing, not an object or empty");
  }
  if (auto count = root.find("models_count"); count != root.end()) {
    if (!count->is_number_integer()
        || count->get<int64_t>() != static_cast<int64_t>(models->size())) {
      return refuse("models_count does not match the " + std::to_string(models->size())
                    + " models listed");
    }
  }
  std::set<std::string> seen;
  for (const auto& [key, entry] : models->items()) {
    if (!entry.is_object()) {
      return refuse("models." + key + " is not an object");
    }
    const auto name = entry.find("model");
    if (name == entry.end() || !name->is_string()
        || !is_model_identifier(name->get<std::string>())) {
      return refuse("models." + key + ".model must be a printable identifier");
    }
    const auto type = entry.find("pricing_type");
    if (type == entry.end() || !type->is_string()) {
      return refuse("models." + key + ".pricing_type is missing or not a string");
    }
    const auto prices = entry.find("prices");
    if (prices == entry.end() || !prices->is_object()) {
      return refuse("models." + key + ".prices is missing or not an object");
    }
    if (type->get<std::string>() != token_pricing_type) {
      continue;
    }
    auto model = ascii_lowercase(name->get<std::string>());
    if (!seen.insert(model).second) {
      return refuse("model \"" + model + "\" is listed twice");
    }
    auto added = parse_model_prices(model, *prices, feed.prices);
    if (!added) {
      return added.error();
    }
    feed.model_count += *added > 0 ? 1 : 0;
  }
  if (feed.model_count == 0) {
    return refuse("the feed prices no model per token");
  }
  return feed;
}

} // namespace cxp::domain
