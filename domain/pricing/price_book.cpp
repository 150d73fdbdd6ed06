#include "domain/pricing/price_book.hpp"

#include "common/encoding.hpp"

namespace cxp::domain {

std::string_view to_string(service_tier tier) {
  return service_tier_names[static_cast<size_t>(tier)];
}

std::string_view to_string(price_bucket bucket) {
  return price_bucket_names[static_cast<size_t>(bucket)];
}

std::optional<service_tier> parse_service_tier(std::string_view name) {
  if (name == "priority") {
    return service_tier::fast;
  }
  for (size_t i = 0; i < service_tier_names.size(); ++i) {
    if (service_tier_names[i] == name) {
      return static_cast<service_tier>(i);
    }
  }
  return std::nullopt;
}

std::optional<price_bucket> parse_price_bucket(std::string_view name) {
  for (size_t i = 0; i < price_bucket_names.size(); ++i) {
    if (price_bucket_names[i] == name) {
      return static_cast<price_bucket>(i);
    }
  }
  return std::nullopt;
}

std::optional<service_tier> billed_tier(const std::optional<std::string>& requested) {
  if (!requested) {
    return service_tier::standard;
  }
  const auto name = ascii_lowercase(*requested);
  if (name.empty() || name == "auto" || name == "default") {
    return service_tier::standard;
  }
  return parse_service_tier(name);
}

price_book::price_book(std::string snapshot_id,
                       const std::vector<persistence::model_price_row>& prices)
    : snapshot_id_(std::move(snapshot_id)) {
  for (const auto& row : prices) {
    const auto tier = parse_service_tier(row.service_tier);
    const auto bucket = parse_price_bucket(row.price_bucket);
    if (!tier || !bucket) {
      continue;
    }
    models_[ascii_lowercase(row.model)][{*tier, *bucket}] =
      price_entry{row.available, static_cast<const persistence::token_rates&>(row)};
  }
}

std::optional<std::string> price_book::resolve_model(std::string_view requested) const {
  auto name = ascii_lowercase(requested);
  if (models_.count(name) != 0) {
    return name;
  }
  const auto slash = name.rfind('/');
  if (slash != std::string::npos && models_.count(name.substr(slash + 1)) != 0) {
    return name.substr(slash + 1);
  }
  return std::nullopt;
}

const price_entry* price_book::find(const std::string& model, service_tier tier,
                                    price_bucket bucket) const {
  auto known = models_.find(model);
  if (known == models_.end()) {
    return nullptr;
  }
  auto entry = known->second.find({tier, bucket});
  return entry == known->second.end() ? nullptr : &entry->second;
}

} // namespace cxp::domain
