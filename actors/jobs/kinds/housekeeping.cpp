#include "actors/jobs/kinds/housekeeping.hpp"

#include "actors/account/account_actor.hpp"
#include "actors/jobs/kinds/job_kit.hpp"
#include "persistence/upkeep/housekeeping_repository.hpp"

namespace cxp::actors::jobs {

namespace {

constexpr int64_t retention_batch = 1'000;
/// One run deletes at most this many batches per table; the next run goes on.
constexpr int64_t retention_batches_per_run = 500;
constexpr auto forget_after = std::chrono::hours{24 * 7};

/// Deletes the rows of `table` older than `days` in batches; the count deleted and whether the
/// run stopped with rows left.
caf::expected<nlohmann::json> trim(persistence::housekeeping_repository& housekeeping,
                                   persistence::history_table table, int64_t days, time_point now) {
  if (days <= 0) {
    return nlohmann::json{{"deleted", 0}, {"kept_forever", true}};
  }
  const auto before = to_iso8601(now - std::chrono::hours{24 * days});
  int64_t deleted = 0;
  for (int64_t batch = 0; batch < retention_batches_per_run; ++batch) {
    auto removed = housekeeping.delete_history(table, before, retention_batch);
    if (!removed) {
      return std::move(removed.error());
    }
    deleted += *removed;
    if (*removed < retention_batch) {
      return nlohmann::json{{"deleted", deleted}, {"more", false}};
    }
  }
  return nlohmann::json{{"deleted", deleted}, {"more", true}};
}

} // namespace

job_outcome apply_retention(const job_services& services, const job_run&) {
  auto settings = current_settings(services.db);
  if (!settings) {
    return std::move(settings.error());
  }
  const auto now = now_of(services);
  const auto& retention = settings->retention;
  persistence::housekeeping_repository housekeeping{services.db};
  nlohmann::json outcome;
  // A request's attempts go with it.
  auto requests =
    trim(housekeeping, persistence::history_table::request_logs, retention.request_log_days, now);
  if (!requests) {
    return std::move(requests.error());
  }
  outcome["request_logs"] = std::move(*requests);
  auto audit =
    trim(housekeeping, persistence::history_table::audit_events, retention.audit_days, now);
  if (!audit) {
    return std::move(audit.error());
  }
  outcome["audit_events"] = std::move(*audit);
  return outcome;
}

job_outcome clean_runtime(const job_services& services, const job_run&) {
  const auto now = now_of(services);
  auto counts = persistence::housekeeping_repository{services.db}.clean_runtime(
    to_iso8601(now), to_iso8601(now - forget_after));
  if (!counts) {
    return std::move(counts.error());
  }
  return nlohmann::json{{"session_leases", counts->session_leases},
                        {"session_pins", counts->session_pins},
                        {"refresh_claims", counts->refresh_claims},
                        {"operator_sessions", counts->operator_sessions},
                        {"invites", counts->invites},
                        {"refresh_gates", counts->refresh_gates},
                        {"onboarding_flows", counts->onboarding_flows},
                        {"upstream_invites", counts->upstream_invites}};
}

} // namespace cxp::actors::jobs
