#include "actors/db/db_worker.hpp"
#include "actors/pool/pool_state.hpp"
#include "common/log.hpp"
#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::actors::pool_detail {

namespace {

/// Reads the key's tokens already in the request logs this UTC day and week (so a restart or a
/// new node does not reset its token caps), then lets the leases that waited for them continue.
void seed_budget(pool_self* self, const runtime_deps& deps, const std::string& api_key_id,
                 time_point now) {
  using tokens_used = std::pair<int64_t, int64_t>; // this UTC day, this UTC week
  ask_db(self, deps.db_pool, db_timeout,
         [id = api_key_id, day = to_iso8601(domain::utc_day_start(now)),
          week = to_iso8601(domain::utc_week_start(now))](
           persistence::database& db) -> caf::expected<tokens_used> {
           persistence::request_log_repository logs{db};
           auto today = logs.usage_of_key(id, day);
           auto this_week = logs.usage_of_key(id, week);
           if (!today || !this_week) {
             return today ? this_week.error() : today.error();
           }
           return tokens_used{today->input_tokens + today->output_tokens,
                              this_week->input_tokens + this_week->output_tokens};
         })
    .then([self, api_key_id](caf::expected<tokens_used>& used) {
      if (!used) {
        log::warn("pool", "token usage of a key could not be read; its caps count from now",
                  {{"api_key_id", api_key_id}, {"error", context_of(used.error())}});
      }
      const auto [day_tokens, week_tokens] = used ? *used : tokens_used{0, 0};
      self->state.budgets[api_key_id].seed(day_tokens, week_tokens, self->state.clock->now());
      auto waiting = std::move(self->state.awaiting_seed[api_key_id]);
      self->state.awaiting_seed.erase(api_key_id);
      for (auto& [promise, request] : waiting) {
        promise.delegate(caf::actor_cast<pool_actor>(self), std::move(request));
      }
    });
}

} // namespace

std::optional<caf::result<lease_reply>> over_budget(pool_self* self, const runtime_deps& deps,
                                                    lease_request& request) {
  const auto now = self->state.clock->now();
  auto budget = self->state.budgets.find(request.api_key_id);
  if (budget == self->state.budgets.end()) {
    if (request.caps.counts_tokens()) {
      auto& waiting = self->state.awaiting_seed[request.api_key_id];
      if (waiting.empty()) {
        seed_budget(self, deps, request.api_key_id, now);
      }
      auto promise = self->make_response_promise();
      waiting.emplace_back(promise, std::move(request));
      return caf::result<lease_reply>{promise};
    }
    budget = self->state.budgets.try_emplace(request.api_key_id).first;
  }
  auto refused = budget->second.admit(request.caps, now);
  if (!refused) {
    return std::nullopt;
  }
  return caf::result<lease_reply>{deny(
    errc::api_key_policy_limit_exceeded,
    refused->message + "; retry after " + to_iso8601(refused->retry_at),
    std::chrono::duration_cast<std::chrono::seconds>(refused->retry_at.time_since_epoch()).count(),
    {}, quota_evidence_for(self, request))};
}

void pin_session(pool_self* self, const runtime_deps& deps, const std::string& session_key,
                 const std::string& account_id) {
  auto& sessions = self->state.sessions;
  const auto ttl = self->state.settings->gateway().session_affinity_ttl;
  auto it = sessions.find(session_key);
  if (it == sessions.end()) {
    auto session = spawn_session_actor(self->system(), ttl);
    self->monitor(session);
    it = sessions.emplace(session_key, pinned_session{session, {}, {}}).first;
  }
  auto& pin = it->second;
  const auto now = self->state.clock->now();
  if (pin.account_id != account_id || pin.shared_until - ttl / 2 < now) {
    pin.shared_until = now + ttl;
    db_write(self, deps.db_pool, "pin_session",
             [pool = self->state.config.id, session_key, account_id,
              until = pin.shared_until](persistence::database& db) {
               return persistence::account_custody_repository{db}.pin_session(pool, session_key,
                                                                              account_id, until);
             });
  }
  pin.account_id = account_id;
  self->send(pin.actor, ping_atom::value);
}

caf::result<lease_reply> with_shared_pin(pool_self* self, const runtime_deps& deps,
                                         lease_request request) {
  auto promise = self->make_response_promise();
  request.shared_pin_checked = true;
  ask_db(self, deps.db_pool, db_timeout,
         [pool = self->state.config.id, key = request.session_key,
          now = self->state.clock->now()](persistence::database& db) {
           return persistence::account_custody_repository{db}.session_pin(pool, key, now);
         })
    .then([self, promise, request](caf::expected<std::optional<std::string>>& pinned) mutable {
      if (pinned && *pinned) {
        request.account_hint = std::move(**pinned);
      }
      promise.delegate(caf::actor_cast<pool_actor>(self), std::move(request));
    });
  return promise;
}

} // namespace cxp::actors::pool_detail
