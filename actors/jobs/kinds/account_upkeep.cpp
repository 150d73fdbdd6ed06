#include "actors/jobs/kinds/account_upkeep.hpp"

#include "actors/account/account_actor.hpp"
#include "actors/jobs/kinds/job_kit.hpp"
#include "actors/upstream/codex_account_calls.hpp"
#include "common/log.hpp"
#include "domain/routing/quota_rows.hpp"
#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/upkeep/account_upkeep_repository.hpp"

namespace cxp::actors::jobs {

namespace {

/// What polling one account's usage came to.
enum class poll_result { stored, unauthorized, failed };

poll_result poll_usage(const job_services& services, const std::string& account_id) {
  auto credentials = credentials_of(services, account_id);
  if (!credentials) {
    return poll_result::failed;
  }
  auto answer = call_and_wait(
    *services.runtime.upstream,
    usage_request(services.runtime.upstream_base_url,
                  {credentials->access_token.expose(), credentials->chatgpt_account_id}));
  if (!answer.failure && answer.reply.head.status == 401) {
    // Left to the request path and the refresh sweep, which own token refreshes: a poll only
    // observes.
    return poll_result::unauthorized;
  }
  auto document = nlohmann::json::parse(answer.reply.body, nullptr, false);
  if (!answer.ok() || !document.is_object()) {
    log::warn("jobs", "usage poll failed",
              {{"account_id", account_id},
               {"status", answer.reply.head.status},
               {"failure", answer.failure ? to_string(*answer.failure) : ""}});
    return poll_result::failed;
  }
  const auto windows = domain::parse_usage_document(document, now_of(services));
  auto rows = domain::to_rows(account_id, windows, "usage_probe");
  if (rows.empty()) {
    return poll_result::stored;
  }
  auto saved = persistence::routing_repository{services.db}.save_quota_windows(rows);
  return saved ? poll_result::stored : poll_result::failed;
}

} // namespace

job_outcome sweep_token_refresh(const job_services& services, const job_run&) {
  auto settings = current_settings(services.db);
  if (!settings) {
    return std::move(settings.error());
  }
  const auto now = now_of(services);
  auto due = persistence::account_upkeep_repository{services.db}.refresh_candidates(
    to_iso8601(now + settings->accounts.token_refresh_ahead),
    to_iso8601(now - settings->accounts.refresh_failure_cooldown));
  if (!due) {
    return std::move(due.error());
  }
  persistence::account_custody_repository custody{services.db};
  int64_t requested = 0;
  for (const auto& account : *due) {
    auto asked = custody.request_refresh_ahead(account.account_id, account.generation);
    if (!asked) {
      return std::move(asked.error());
    }
    requested += *asked ? 1 : 0;
  }
  // Not requested: a refresh was already asked, or no node owns the account right now.
  return nlohmann::json{{"due", due->size()}, {"requested", requested}};
}

job_outcome reconcile_quota(const job_services& services, const job_run&) {
  auto settings = current_settings(services.db);
  if (!settings) {
    return std::move(settings.error());
  }
  const auto cutoff = now_of(services) - settings->accounts.quota_evidence_max_age;
  auto stale =
    persistence::account_upkeep_repository{services.db}.stale_evidence(to_iso8601(cutoff));
  if (!stale) {
    return std::move(stale.error());
  }
  int64_t stored = 0;
  int64_t unauthorized = 0;
  int64_t failed = 0;
  for (const auto& account_id : *stale) {
    switch (poll_usage(services, account_id)) {
    case poll_result::stored:
      ++stored;
      break;
    case poll_result::unauthorized:
      ++unauthorized;
      break;
    case poll_result::failed:
      ++failed;
      break;
    }
  }
  return nlohmann::json{{"stale", stale->size()},
                        {"stored", stored},
                        {"unauthorized", unauthorized},
                        {"failed", failed}};
}

} // namespace cxp::actors::jobs
