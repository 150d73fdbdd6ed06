#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// The token prices of one (model, tier, bucket), each in micro-USD per million tokens: the
/// feed's "USD per 1M tokens" times 10^6, so every published price is an exact integer and a
/// token's price in micro-USD is the rate divided by 10^6. Shared by the stored row and the
/// domain's price book (`domain/pricing`).
struct token_rates {
  int64_t input = 0;
  int64_t cached_input = 0;
  int64_t cache_write = 0;
  int64_t output = 0;
  int64_t reasoning = 0;
};

/// One model's prices in one service tier and context bucket of a snapshot.
struct model_price_row : token_rates {
  std::string snapshot_id;
  std::string model;        ///< lower-cased identifier, e.g. "gpt-5.5"
  std::string service_tier; ///< standard | batch | flex | fast
  std::string price_bucket; ///< default | short_context | long_context
  bool available = true;    ///< false: the feed says this tier/bucket is not offered
};

/// One imported pricing feed.
struct pricing_snapshot_row {
  std::string id;
  std::string price_version; ///< the feed's `generated_at`, as published
  std::string effective_at;  ///< `generated_at` in our fixed-width ISO-8601
  std::string source_url;    ///< where the feed came from (`builtin:…` for the vendored one)
  std::string imported_at;
  int64_t model_count = 0; ///< models with token prices
};

/// All SQL on `pricing_snapshots` and `pricing_model_prices`.
class pricing_repository {
public:
  explicit pricing_repository(database& db) : db_(db) {}

  /// Stores a snapshot and its prices in one transaction. A snapshot with the same
  /// `price_version` already stored is `errc::conflict` (the unique index decides, so two nodes
  /// importing at once store it once).
  caf::expected<void> insert(const pricing_snapshot_row& snapshot,
                             const std::vector<model_price_row>& prices);

  caf::expected<std::optional<pricing_snapshot_row>> find_by_version(const std::string& version);

  /// The snapshot in force: the newest `effective_at`, then the latest import. One indexed row,
  /// cheap enough to poll.
  caf::expected<std::optional<pricing_snapshot_row>> current();

  /// Every price of snapshot `snapshot_id`.
  caf::expected<std::vector<model_price_row>> prices_of(const std::string& snapshot_id);

  /// Every snapshot, newest `effective_at` first.
  caf::expected<std::vector<pricing_snapshot_row>> list();

private:
  database& db_;
};

} // namespace cxp::persistence
