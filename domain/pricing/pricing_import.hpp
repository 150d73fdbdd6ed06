#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "domain/pricing/price_book.hpp"
#include "persistence/db/database.hpp"

namespace cxp::domain {

/// How a pricing import ended.
enum class pricing_import_outcome : uint8_t {
  imported,  ///< a new snapshot was stored
  unchanged, ///< a snapshot with the feed's version already exists; nothing was written
  rejected,  ///< the feed failed validation; nothing was written
  failed,    ///< the feed could not be fetched or stored; nothing was written
};

std::string_view to_string(pricing_import_outcome outcome);

/// The result of importing one feed: what happened and, when it did not work, why.
struct pricing_import_result {
  pricing_import_outcome outcome = pricing_import_outcome::failed;
  std::string snapshot_id;   ///< imported: the new snapshot; unchanged: the existing one
  std::string price_version; ///< the feed's `generated_at`, once it parsed
  int64_t model_count = 0;   ///< imported or unchanged: the snapshot's priced models
  std::string reason;        ///< rejected or failed: why (no secret; safe to record and show)

  bool ok() const {
    return outcome == pricing_import_outcome::imported
           || outcome == pricing_import_outcome::unchanged;
  }
};

/// `{"outcome", "snapshot_id", "price_version", "model_count", "reason"}` (empty members left
/// out), for job outcomes and the CLI.
nlohmann::json to_json(const pricing_import_result& result);

/// Where the built-in snapshot says it came from.
inline constexpr std::string_view builtin_pricing_source =
  "builtin:domain/pricing/openai-pricing.json";

/// The pricing feed vendored in domain/pricing/openai-pricing.json, embedded at build time.
std::string_view builtin_pricing_feed();

/// Validates `feed_text` (`parse_pricing_feed`) and stores it as a new snapshot unless one with
/// its version exists (`unchanged`, also when another node stores it at the same moment). A
/// feed that fails validation is `rejected` with the reason and changes nothing; a database
/// failure is `failed`. `source_url` is stored without its query or fragment, which might carry
/// credentials. Logs the outcome. Blocks on the database: db workers, job workers, the CLI.
pricing_import_result import_pricing_feed(persistence::database& db, std::string_view feed_text,
                                          const std::string& source_url, const clock& clock);

/// `import_pricing_feed` on the system clock.
pricing_import_result import_pricing_feed(persistence::database& db, std::string_view feed_text,
                                          const std::string& source_url);

/// Imports `builtin_pricing_feed()` (`codex-pooler migrate`, and `serve` in role all): a no-op
/// once its version is stored. A newer snapshot imported earlier stays in force, because the
/// snapshot in force is the one with the latest `generated_at`.
pricing_import_result import_builtin_pricing(persistence::database& db, const clock& clock);

/// The price book to price requests with now: `held` itself while its snapshot is still the one
/// in force (one indexed read of `pricing_snapshots`), else the current snapshot's book loaded
/// from the database, or an empty book when none is imported. `held` may be null. Blocks on the
/// database.
caf::expected<std::shared_ptr<const price_book>>
current_price_book(persistence::database& db, std::shared_ptr<const price_book> held = nullptr);

} // namespace cxp::domain
