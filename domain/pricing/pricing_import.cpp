#include "domain/pricing/pricing_import.hpp"

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "common/log.hpp"
#include "domain/pricing/pricing_feed.hpp"
#include "persistence/pricing/pricing_repository.hpp"

namespace cxp::domain {

namespace {

/// `url` without its query and fragment, which might carry credentials.
std::string without_query(const std::string& url) {
  return url.substr(0, url.find_first_of("?#"));
}

pricing_import_result failed(std::string reason, const std::string& source) {
  log::error("pricing", "pricing import failed", {{"source_url", source}, {"reason", reason}});
  pricing_import_result out;
  out.outcome = pricing_import_outcome::failed;
  out.reason = std::move(reason);
  return out;
}

pricing_import_result unchanged(const persistence::pricing_snapshot_row& existing) {
  pricing_import_result out;
  out.outcome = pricing_import_outcome::unchanged;
  out.snapshot_id = existing.id;
  out.price_version = existing.price_version;
  out.model_count = existing.model_count;
  return out;
}

} // namespace

std::string_view to_string(pricing_import_outcome outcome) {
  switch (outcome) {
  case pricing_import_outcome::imported:
    return "imported";
  case pricing_import_outcome::unchanged:
    return "unchanged";
  case pricing_import_outcome::rejected:
    return "rejected";
  case pricing_import_outcome::failed:
    return "failed";
  }
  return "failed";
}

nlohmann::json to_json(const pricing_import_result& result) {
  nlohmann::json out = {{"outcome", to_string(result.outcome)}};
  if (!result.snapshot_id.empty()) {
    out["snapshot_id"] = result.snapshot_id;
  }
  if (!result.price_version.empty()) {
    out["price_version"] = result.price_version;
  }
  if (result.ok()) {
    out["model_count"] = result.model_count;
  }
  if (!result.reason.empty()) {
    out["reason"] = result.reason;
  }
  return out;
}

pricing_import_result import_pricing_feed(persistence::database& db, std::string_view feed_text,
                                          const std::string& source_url, const clock& clock) {
  const auto source = without_query(source_url);
  auto feed = parse_pricing_feed(feed_text);
  if (!feed) {
    pricing_import_result out;
    out.outcome = pricing_import_outcome::rejected;
    out.reason = context_of(feed.error());
    log::warn("pricing", "pricing feed refused", {{"source_url", source}, {"reason", out.reason}});
    return out;
  }
  persistence::pricing_repository snapshots{db};
  auto existing = snapshots.find_by_version(feed->price_version);
  if (!existing) {
    return failed(context_of(existing.error()), source);
  }
  if (*existing) {
    return unchanged(**existing);
  }
  persistence::pricing_snapshot_row row;
  row.id = new_uuid();
  row.price_version = feed->price_version;
  row.effective_at = feed->effective_at;
  row.source_url = source;
  row.imported_at = to_iso8601(clock.now());
  row.model_count = feed->model_count;
  if (auto stored = snapshots.insert(row, feed->prices); !stored) {
    // Another node stored the same version first: the unique index refused ours.
    if (to_errc(stored.error()) == errc::conflict) {
      if (auto raced = snapshots.find_by_version(feed->price_version); raced && *raced) {
        return unchanged(**raced);
      }
    }
    return failed(context_of(stored.error()), source);
  }
  log::info("pricing", "pricing snapshot imported",
            {{"snapshot_id", row.id},
             {"price_version", row.price_version},
             {"models", row.model_count},
             {"source_url", source}});
  pricing_import_result out;
  out.outcome = pricing_import_outcome::imported;
  out.snapshot_id = row.id;
  out.price_version = row.price_version;
  out.model_count = row.model_count;
  return out;
}

pricing_import_result import_pricing_feed(persistence::database& db, std::string_view feed_text,
                                          const std::string& source_url) {
  system_clock_source clock;
  return import_pricing_feed(db, feed_text, source_url, clock);
}

pricing_import_result import_builtin_pricing(persistence::database& db, const clock& clock) {
  return import_pricing_feed(db, builtin_pricing_feed(), std::string{builtin_pricing_source},
                             clock);
}

caf::expected<std::shared_ptr<const price_book>>
current_price_book(persistence::database& db, std::shared_ptr<const price_book> held) {
  persistence::pricing_repository snapshots{db};
  auto current = snapshots.current();
  if (!current) {
    return current.error();
  }
  if (!*current) {
    if (held && held->empty()) {
      return held;
    }
    return std::make_shared<const price_book>();
  }
  if (held && held->snapshot_id() == (*current)->id) {
    return held;
  }
  auto prices = snapshots.prices_of((*current)->id);
  if (!prices) {
    return prices.error();
  }
  return std::make_shared<const price_book>((*current)->id, *prices);
}

} // namespace cxp::domain
