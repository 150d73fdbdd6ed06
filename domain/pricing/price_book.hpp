#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/pricing/pricing_repository.hpp"

namespace cxp::domain {

/// The service tiers a pricing feed prices. `fast` is the feed's name for the API's `priority`.
enum class service_tier : uint8_t { standard, batch, flex, fast };

/// The context buckets a model may be priced by.
enum class price_bucket : uint8_t { default_bucket, short_context, long_context };

inline constexpr std::array<std::string_view, 4> service_tier_names = {"standard", "batch", "flex",
                                                                       "fast"};
inline constexpr std::array<std::string_view, 3> price_bucket_names = {"default", "short_context",
                                                                       "long_context"};

std::string_view to_string(service_tier tier);
std::string_view to_string(price_bucket bucket);

/// A tier or bucket by its feed (and stored) name; nullopt for any other name. `priority` is
/// accepted as `fast`.
std::optional<service_tier> parse_service_tier(std::string_view name);
std::optional<price_bucket> parse_price_bucket(std::string_view name);

/// The tier a request is billed at, from the `service_tier` its client sent: none, "", "auto",
/// "default" and "standard" are `standard`; "priority" and "fast" are `fast`; "flex" and
/// "batch" are themselves (ASCII case ignored). Nullopt for anything else: such a request is
/// unpriced rather than billed at a guessed tier.
std::optional<service_tier> billed_tier(const std::optional<std::string>& requested);

/// A model's price in one tier and bucket; `available` false when the feed says it is not
/// offered (then `rates` is all zero and must not be used).
struct price_entry {
  bool available = true;
  persistence::token_rates rates;
};

/// The prices of one snapshot, looked up by model, tier and bucket. Immutable once built, so one
/// instance is shared (`std::shared_ptr<const price_book>`) by whoever prices requests; an empty
/// book (no snapshot imported) prices nothing.
class price_book {
public:
  price_book() = default;

  /// The book of snapshot `snapshot_id` from its stored rows (rows with an unknown tier or
  /// bucket are skipped: the migration's CHECK keeps them out anyway).
  price_book(std::string snapshot_id, const std::vector<persistence::model_price_row>& prices);

  const std::string& snapshot_id() const { return snapshot_id_; }
  bool empty() const { return models_.empty(); }
  size_t model_count() const { return models_.size(); }

  /// The snapshot's identifier for `requested`: the model itself (ASCII case ignored), else the
  /// part after its last '/' (a provider-qualified name such as "openai/gpt-5.5"). Nothing
  /// looser: a dated or otherwise suffixed name the feed does not list is unknown.
  std::optional<std::string> resolve_model(std::string_view requested) const;

  /// The entry of a resolved model in `tier` and `bucket`, or nullptr when the feed lists none.
  const price_entry* find(const std::string& model, service_tier tier, price_bucket bucket) const;

private:
  using tier_bucket = std::pair<service_tier, price_bucket>;

  std::string snapshot_id_;
  std::map<std::string, std::map<tier_bucket, price_entry>, std::less<>> models_;
};

} // namespace cxp::domain
