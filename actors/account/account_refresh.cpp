#include <random>

#include "actors/account/account_state.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/notices/node_notices.hpp"
#include "actors/type_ids.hpp"
#include "actors/upstream/codex_identity.hpp"
#include "common/log.hpp"
#include "domain/accounts/token_refresh.hpp"
#include "persistence/accounts/account_custody_repository.hpp"

namespace cxp::actors::account_detail {

bool token_expired(account_self* self, const runtime_deps& deps) {
  return self->state.expires_at && *self->state.expires_at <= now(deps) + expiry_margin;
}

std::chrono::milliseconds jitter(int up_to_ms) {
  thread_local std::mt19937 random{std::random_device{}()};
  return std::chrono::milliseconds{std::uniform_int_distribution<int>{0, up_to_ms}(random)};
}

/// Someone else refreshes (the owner, or the node that holds the claim): look for the new
/// generation until it is stored.
void await_generation(account_self* self) {
  if (!self->state.awaiting_generation) {
    self->state.awaiting_generation = true;
    self->delayed_send(self, generation_poll_interval, generation_atom::value);
  }
}

/// A replica asks the owner to refresh the generation it holds (once per generation) and waits.
void ask_owner(account_self* self, const runtime_deps& deps) {
  auto& state = self->state;
  if (state.requested_generation != state.generation) {
    state.requested_generation = state.generation;
    db_write(self, deps.db_pool, "request_refresh",
             [id = state.row.id, generation = state.generation](persistence::database& db) {
               return persistence::account_custody_repository{db}.request_refresh(id, generation);
             });
  }
  await_generation(self);
}

void start_refresh(account_self* self, bool proactive) {
  if (self->state.refreshing) {
    return;
  }
  self->state.refreshing = true;
  self->state.proactive = proactive;
  self->delayed_send(self, jitter(refresh_jitter_ms), claim_due{});
  if (!proactive) {
    publish(self); // withdraws the credentials until the refresh ends
  }
}

/// Ends a refresh that did not produce tokens here; waiters stay for the next credentials.
void stop_refreshing(account_self* self) {
  self->state.refreshing = false;
  self->state.proactive = false;
  publish(self);
}

void post_refresh(account_self* self, const runtime_deps& deps) {
  upstream_request request;
  request.url = deps.oauth_token_url;
  request.headers = {{"content-type", "application/json"},
                     {"accept", "application/json"},
                     {"originator", std::string{codex_originator}},
                     {"user-agent", std::string{codex_user_agent}}};
  request.body = domain::make_refresh_body(self->state.credentials->refresh_token);
  request.timeouts.first_byte = std::chrono::seconds{30};
  fetch_upstream(self, deps, fetch_kind::refresh, std::move(request));
}

/// Claims the right to spend this generation's refresh token; only the winner calls upstream.
void claim_refresh(account_self* self, const runtime_deps& deps) {
  ask_db(self, deps.db_pool, db_timeout,
         [id = self->state.row.id, node = deps.node_id, generation = self->state.generation,
          at = now(deps), limit = deps.refresh_client_limit](persistence::database& db) {
           return persistence::account_custody_repository{db}.claim_refresh(
             id, std::string{domain::codex_oauth_client_id}, node, generation, at,
             refresh_claim_ttl, limit);
         })
    .then(
      [self, &deps](caf::expected<persistence::refresh_claim>& claim) {
        if (!claim) {
          log::warn("account", "refresh claim failed",
                    {{"account_id", self->state.row.id}, {"error", context_of(claim.error())}});
          self->state.refreshing = false;
          fail_waiting(self, make_error(errc::database_unavailable, "refresh claim failed"));
          publish(self);
          return;
        }
        switch (*claim) {
        case persistence::refresh_claim::won:
          post_refresh(self, deps);
          return;
        case persistence::refresh_claim::held:
          stop_refreshing(self);
          await_generation(self);
          return;
        case persistence::refresh_claim::stale:
          stop_refreshing(self);
          load(self, deps);
          return;
        case persistence::refresh_claim::client_busy:
          self->delayed_send(self, jitter(2 * refresh_jitter_ms) + std::chrono::milliseconds{50},
                             claim_due{});
          return;
        }
      },
      [self](caf::error& error) {
        self->state.refreshing = false;
        fail_waiting(self, error);
        publish(self);
      });
}

/// Persists refreshed tokens, fenced by the generation they were refreshed from; only after the
/// commit are they used (the old refresh token is already dead upstream, so losing the new one
/// would lose the account).
void persist_tokens(account_self* self, const runtime_deps& deps) {
  const auto& tokens = *self->state.unpersisted;
  ask_db(self, deps.db_pool, db_timeout,
         [&services = deps.services, id = self->state.row.id, generation = self->state.generation,
          tokens](persistence::database&) {
           return domain::account_service{services}.store_refreshed_tokens(
             id, generation, tokens.access_token, tokens.refresh_token, tokens.expires_at);
         })
    .then(
      [self, &deps](caf::expected<bool>& stored) {
        if (!stored) {
          // The old refresh token is spent: these are the only valid tokens. The refresh stays
          // running (no other refresh starts) and the store is retried until it succeeds.
          log::error("account", "refreshed tokens could not be stored; holding them until they are",
                     {{"account_id", self->state.row.id}, {"error", context_of(stored.error())}});
          fail_waiting(self, make_error(errc::database_unavailable, "token store failed"));
          self->delayed_send(self, persist_retry_interval, persist_due{});
          return;
        }
        if (!*stored) {
          log::warn("account", "a newer token generation was stored meanwhile; reloading it",
                    {{"account_id", self->state.row.id}});
          self->state.unpersisted.reset();
          stop_refreshing(self);
          load(self, deps);
          return;
        }
        auto& stored_tokens = *self->state.unpersisted;
        self->state.credentials->access_token = stored_tokens.access_token;
        self->state.credentials->refresh_token = stored_tokens.refresh_token;
        self->state.expires_at = stored_tokens.expires_at;
        self->state.unpersisted.reset();
        ++self->state.generation;
        announce(self->system(),
                 account_tokens_changed{self->state.row.id, self->state.generation});
        self->state.refreshing = false;
        self->state.proactive = false;
        self->state.refresh_tries = 0;
        deps.metrics.token_refreshes.add({{"outcome", "refreshed"}}).increment();
        grant_waiting(self);
        publish(self);
        if (self->state.owner && !self->state.models_synced) {
          sync_catalog(self, deps);
          probe_usage(self, deps);
        }
      },
      [self](caf::error& error) {
        log::error("account", "refreshed tokens could not be stored; holding them until they are",
                   {{"account_id", self->state.row.id}, {"error", caf::to_string(error)}});
        fail_waiting(self, error);
        self->delayed_send(self, persist_retry_interval, persist_due{});
      });
}

/// The refresh token was refused: `reauth_required`, unless the database holds a newer
/// generation (another node spent the token and stored its successor), which is loaded instead.
void mark_reauth_required(account_self* self, const runtime_deps& deps, const std::string& code) {
  ask_db(self, deps.db_pool, db_timeout,
         [id = self->state.row.id, generation = self->state.generation, code,
          at = to_iso8601(now(deps))](persistence::database& db) {
           return persistence::account_custody_repository{db}.mark_reauth_required(id, generation,
                                                                                   code, at);
         })
    .then(
      [self, &deps, code](caf::expected<bool>& marked) {
        if (marked && !*marked) {
          log::info("account", "refresh token refused but a newer generation is stored; reloading",
                    {{"account_id", self->state.row.id}, {"code", code}});
          stop_refreshing(self);
          load(self, deps);
          return;
        }
        self->state.status = "reauth_required";
        self->state.refreshing = false;
        deps.metrics.token_refreshes.add({{"outcome", "revoked"}}).increment();
        log::warn("account", "refresh token rejected; the account needs a new sign-in",
                  {{"account_id", self->state.row.id}, {"code", code}});
        fail_waiting(self, make_error(errc::reauth_required, code));
        publish(self);
      },
      [self](caf::error& error) {
        self->state.refreshing = false;
        fail_waiting(self, error);
        publish(self);
      });
}

void on_refresh_answer(account_self* self, const runtime_deps& deps, const fetched& answer) {
  domain::refresh_outcome outcome;
  if (answer.failure) {
    outcome.error_code = std::string{to_string(*answer.failure)};
  } else {
    outcome =
      domain::classify_refresh_response(answer.reply.head.status, answer.reply.body, now(deps));
  }
  switch (outcome.outcome) {
  case domain::refresh_outcome::kind::refreshed:
    self->state.unpersisted =
      pending_tokens{std::move(outcome.access_token),
                     outcome.refresh_token ? std::move(*outcome.refresh_token)
                                           : self->state.credentials->refresh_token,
                     outcome.access_token_expires_at};
    persist_tokens(self, deps);
    return;
  case domain::refresh_outcome::kind::revoked:
    mark_reauth_required(self, deps, outcome.error_code);
    return;
  case domain::refresh_outcome::kind::transient:
    break;
  }
  deps.metrics.token_refreshes.add({{"outcome", "transient_failure"}}).increment();
  db_write(self, deps.db_pool, "release_refresh_claim",
           [id = self->state.row.id, node = deps.node_id](persistence::database& db) {
             return persistence::account_custody_repository{db}.release_claim(id, node);
           });
  if (++self->state.refresh_tries < refresh_max_tries) {
    self->state.refreshing = false;
    const auto backoff = refresh_first_backoff * (1 << (self->state.refresh_tries - 1));
    self->delayed_send(self, backoff, refresh_atom::value);
    return;
  }
  log::warn("account", "token refresh failed",
            {{"account_id", self->state.row.id}, {"code", outcome.error_code}});
  self->state.refreshing = false;
  self->state.refresh_tries = 0;
  fail_waiting(self, make_error(errc::upstream_request_failed, "refresh " + outcome.error_code));
  publish(self);
  db_write(self, deps.db_pool, "record_refresh_error",
           [id = self->state.row.id, code = outcome.error_code,
            at = to_iso8601(now(deps))](persistence::database& db) {
             return persistence::routing_repository{db}.record_refresh_error(id, code, at);
           });
}

void after_credentials(account_self* self, const runtime_deps& deps) {
  auto& state = self->state;
  if (state.status == "reauth_required" || state.refreshing || state.loading) {
    return;
  }
  const bool rejected = state.rejected_generation && state.generation <= *state.rejected_generation;
  if (token_expired(self, deps) || rejected) {
    if (state.owner) {
      start_refresh(self, false);
    } else if (!state.waiting.empty()) {
      ask_owner(self, deps);
    }
    return;
  }
  state.rejected_generation.reset();
  grant_waiting(self);
}

/// A token newer than `generation` is wanted (a 401 answered that one): the owner refreshes, a
/// replica asks the owner and waits.
caf::result<lease_grant> refresh_past(account_self* self, const runtime_deps& deps,
                                      int64_t generation) {
  auto& state = self->state;
  if (state.status == "reauth_required") {
    return make_error(errc::reauth_required, "refresh token rejected");
  }
  if (generation < state.generation && !state.refreshing && state.credentials) {
    return grant_of(self);
  }
  auto promise = self->make_response_promise();
  state.waiting.push_back(promise);
  if (!state.rejected_generation || *state.rejected_generation < generation) {
    state.rejected_generation = generation;
  }
  if (!state.loading && !state.credentials) {
    load(self, deps);
  } else {
    after_credentials(self, deps);
  }
  return promise;
}

} // namespace cxp::actors::account_detail
