#include "actors/jobs/kinds/accounting.hpp"

#include "actors/account/account_actor.hpp"
#include "actors/jobs/kinds/job_kit.hpp"
#include "actors/pricing/pricing_download.hpp"
#include "common/errc.hpp"
#include "persistence/upkeep/usage_rollup_repository.hpp"

namespace cxp::actors::jobs {

namespace {

constexpr int64_t max_hours_per_run = 24 * 7;

time_point hour_of(time_point at) {
  return std::chrono::floor<std::chrono::hours>(at);
}

} // namespace

job_outcome import_pricing(const job_services& services, const job_run&) {
  auto settings = current_settings(services.db);
  if (!settings) {
    return std::move(settings.error());
  }
  auto result =
    import_pricing_from_url(services.db, *services.runtime.upstream, settings->catalog.pricing_url);
  switch (result.outcome) {
  case domain::pricing_import_outcome::imported:
  case domain::pricing_import_outcome::unchanged:
    return domain::to_json(result);
  case domain::pricing_import_outcome::rejected:
    return make_error(errc::validation_failed, "pricing feed rejected: " + result.reason);
  case domain::pricing_import_outcome::failed:
    break;
  }
  return make_error(errc::upstream_request_failed, "pricing import failed: " + result.reason);
}

job_outcome roll_up_usage(const job_services& services, const job_run&) {
  persistence::usage_rollup_repository rollups{services.db};
  const auto now = now_of(services);
  // The first hour at or after `from` that has requests, if any.
  auto hour_with_requests =
    [&](const std::string& from) -> caf::expected<std::optional<time_point>> {
    auto next = rollups.next_request(from);
    if (!next) {
      return std::move(next.error());
    }
    if (!*next) {
      return std::optional<time_point>{};
    }
    return std::optional<time_point>{hour_of(parse_iso8601(**next).value_or(now))};
  };
  auto latest = rollups.latest_bucket();
  if (!latest) {
    return std::move(latest.error());
  }
  caf::expected<std::optional<time_point>> bucket{std::optional<time_point>{}};
  if (*latest) {
    // The hour before the newest rolled up is rebuilt too: requests finishing late land there.
    bucket = std::optional<time_point>{parse_iso8601(**latest).value_or(hour_of(now))
                                       - std::chrono::hours{1}};
  } else {
    bucket = hour_with_requests("");
  }
  const auto first = bucket && *bucket ? to_iso8601(**bucket) : std::string{};
  int64_t hours = 0;
  int64_t rows = 0;
  while (bucket && *bucket && **bucket <= now && hours < max_hours_per_run) {
    const auto next = **bucket + std::chrono::hours{1};
    auto written = rollups.rebuild(to_iso8601(**bucket), to_iso8601(next), to_iso8601(now));
    if (!written) {
      return std::move(written.error());
    }
    ++hours;
    rows += *written;
    // After an hour without requests, straight to the next one that has some.
    bucket = *written > 0 ? caf::expected<std::optional<time_point>>{std::optional{next}}
                          : hour_with_requests(to_iso8601(next));
  }
  if (!bucket) {
    return std::move(bucket.error());
  }
  return nlohmann::json{{"from", first}, {"hours", hours}, {"rows", rows}};
}

} // namespace cxp::actors::jobs
