#include "actors/account/account_actor.hpp"

#include <random>
#include <set>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/account/token_refresh.hpp"
#include "actors/admin/account_service.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/notices/node_notices.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/type_ids.hpp"
#include "actors/upstream/codex_identity.hpp"
#include "common/log.hpp"
#include "persistence/accounts/account_custody_repository.hpp"

namespace cxp::actors {

namespace {

using nlohmann::json;

constexpr auto db_timeout = std::chrono::seconds{15};
constexpr auto expiry_margin = std::chrono::seconds{30};
constexpr auto quota_flush_delay = std::chrono::seconds{1};
constexpr auto catalog_sync_interval = std::chrono::hours{1};
constexpr int refresh_max_tries = 3;
constexpr auto refresh_first_backoff = std::chrono::milliseconds{500};
/// The owner refreshes this long before the access token expires.
constexpr auto refresh_ahead = std::chrono::minutes{5};
constexpr auto refresh_check_interval = std::chrono::seconds{15};
/// A refresh claim outlives the refresh call's own timeout, so it never lapses mid-call.
constexpr auto refresh_claim_ttl = std::chrono::seconds{90};
/// Refreshes start after a random delay up to this, and a claim refused for the OAuth client's
/// limit retries after up to twice this: sibling refreshes do not burst.
constexpr int refresh_jitter_ms = 250;
/// How often a node waiting for someone else's refresh looks for the new generation.
constexpr auto generation_poll_interval = std::chrono::milliseconds{500};

enum class fetch_kind : uint8_t { refresh, models, usage };

/// The answer of an upstream call made by the actor, delivered back to it as a message.
struct fetched {
  fetch_kind kind = fetch_kind::refresh;
  std::optional<upstream_failure> failure;
  upstream_reply reply;
};

struct loaded_account {
  admin::account_service::credentials credentials;
  std::vector<persistence::quota_window_row> quota;
  std::vector<persistence::account_model_row> models;
};

/// Refreshed tokens waiting to be persisted (and then used).
struct pending_tokens {
  secret<std::string> access_token;
  secret<std::string> refresh_token;
  std::optional<time_point> expires_at;
};

/// The jittered moment to claim the refresh has come.
struct claim_due {};

} // namespace
} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::fetched)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::claim_due)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(caf::expected<cxp::actors::loaded_account>)

namespace cxp::actors {
namespace {

struct account_state {
  persistence::routing_account_row row;
  std::string status;
  std::string plan_type;
  std::optional<admin::account_service::credentials> credentials;
  std::optional<time_point> expires_at;
  int64_t generation = 0; ///< the stored token generation the credentials belong to
  bool owner = false;     ///< this node owns the account (the custodian says so)
  bool loading = false;
  bool refreshing = false;
  bool proactive = false; ///< the running refresh is ahead of expiry: the old token still serves
  bool awaiting_generation = false;
  std::optional<int64_t> requested_generation; ///< asked the owner to refresh this one
  std::optional<int64_t> rejected_generation;  ///< the upstream refused this one's access token
  int refresh_tries = 0;
  std::optional<pending_tokens> unpersisted;
  /// Checkouts and refreshes waiting for credentials.
  std::vector<caf::response_promise> waiting;
  std::vector<quota_window> quota;
  std::optional<time_point> exhausted_until;
  std::optional<time_point> demoted_until;
  bool quota_dirty = false;
  bool flush_scheduled = false;
  bool publish_pending = false; ///< quota changed since the last snapshot went out
  std::shared_ptr<const std::vector<json>> models = std::make_shared<const std::vector<json>>();
  bool models_synced = false;
  std::set<caf::actor> pools;
  static inline const char* name = "account_actor";
};

using account_self = caf::stateful_actor<account_state>;

time_point now(const runtime_deps& deps) {
  return deps.services.clock.now();
}

account_snapshot snapshot_of(const account_state& state) {
  account_snapshot snapshot;
  snapshot.account_id = state.row.id;
  snapshot.status = state.status;
  snapshot.plan_type = state.plan_type;
  snapshot.quota = state.quota;
  snapshot.exhausted_until = state.exhausted_until;
  snapshot.demoted_until = state.demoted_until;
  snapshot.models = state.models;
  const bool withdrawn = state.refreshing && !state.proactive;
  if (state.credentials && !state.loading && !withdrawn && snapshot.routable()) {
    snapshot.credentials = std::make_shared<const ready_credentials>(ready_credentials{
      state.credentials->chatgpt_account_id, state.credentials->access_token, state.generation,
      state.expires_at ? std::optional<time_point>{*state.expires_at - expiry_margin}
                       : std::nullopt});
  }
  return snapshot;
}

void publish(account_self* self) {
  self->state.publish_pending = false;
  const auto snapshot = snapshot_of(self->state);
  for (const auto& pool : self->state.pools) {
    self->send(pool, snapshot);
  }
}

lease_grant grant_of(account_self* self) {
  lease_grant grant;
  grant.account_id = self->state.row.id;
  grant.chatgpt_account_id = self->state.credentials->chatgpt_account_id;
  grant.access_token = self->state.credentials->access_token;
  grant.token_generation = self->state.generation;
  grant.account = caf::actor_cast<caf::actor>(self);
  return grant;
}

void fail_waiting(account_self* self, const caf::error& error) {
  for (auto& promise : self->state.waiting) {
    promise.deliver(error);
  }
  self->state.waiting.clear();
}

void grant_waiting(account_self* self) {
  for (auto& promise : self->state.waiting) {
    promise.deliver(grant_of(self));
  }
  self->state.waiting.clear();
}

header_list upstream_headers(const account_state& state) {
  return {{"authorization", "Bearer " + state.credentials->access_token.expose()},
          {"chatgpt-account-id", state.credentials->chatgpt_account_id},
          {"originator", std::string{codex_originator}},
          {"user-agent", std::string{codex_user_agent}},
          {"accept", "application/json"}};
}

void fetch(account_self* self, const runtime_deps& deps, fetch_kind kind,
           upstream_request request) {
  caf::actor me = caf::actor_cast<caf::actor>(self);
  deps.upstream->fetch(std::move(request),
                       [me, kind](std::optional<upstream_failure> failure, upstream_reply reply) {
                         caf::anon_send(me, fetched{kind, failure, std::move(reply)});
                       });
}

void sync_catalog(account_self* self, const runtime_deps& deps) {
  upstream_request request;
  request.method = boost::beast::http::verb::get;
  request.url =
    deps.upstream_base_url + "/codex/models?client_version=" + std::string{codex_client_version};
  request.headers = upstream_headers(self->state);
  request.timeouts.first_byte = std::chrono::seconds{30};
  fetch(self, deps, fetch_kind::models, std::move(request));
}

void probe_usage(account_self* self, const runtime_deps& deps) {
  upstream_request request;
  request.method = boost::beast::http::verb::get;
  request.url = deps.upstream_base_url + "/wham/usage";
  request.headers = upstream_headers(self->state);
  request.timeouts.first_byte = std::chrono::seconds{30};
  fetch(self, deps, fetch_kind::usage, std::move(request));
}

bool token_due(account_self* self, const runtime_deps& deps, std::chrono::seconds margin) {
  return self->state.expires_at && *self->state.expires_at <= now(deps) + margin;
}

bool token_expired(account_self* self, const runtime_deps& deps) {
  return token_due(self, deps, expiry_margin);
}

std::chrono::milliseconds jitter(int up_to_ms) {
  thread_local std::mt19937 random{std::random_device{}()};
  return std::chrono::milliseconds{std::uniform_int_distribution<int>{0, up_to_ms}(random)};
}

void load(account_self* self, const runtime_deps& deps);

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
  request.body = make_refresh_body(self->state.credentials->refresh_token);
  request.timeouts.first_byte = std::chrono::seconds{30};
  fetch(self, deps, fetch_kind::refresh, std::move(request));
}

/// Claims the right to spend this generation's refresh token; only the winner calls upstream.
void claim_refresh(account_self* self, const runtime_deps& deps) {
  db_call call{[id = self->state.row.id, node = deps.node_id, generation = self->state.generation,
                at = now(deps), limit = deps.refresh_client_limit](persistence::database& db) {
    return caf::make_message(persistence::account_custody_repository{db}.claim_refresh(
      id, std::string{codex_oauth_client_id}, node, generation, at, refresh_claim_ttl, limit));
  }};
  self->request(deps.db_pool, db_timeout, std::move(call))
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
  db_call call{[&services = deps.services, id = self->state.row.id,
                generation = self->state.generation, tokens](persistence::database&) {
    admin::account_service service{services};
    return caf::make_message(service.store_refreshed_tokens(
      id, generation, tokens.access_token, tokens.refresh_token, tokens.expires_at));
  }};
  self->request(deps.db_pool, db_timeout, std::move(call))
    .then(
      [self, &deps](caf::expected<bool>& stored) {
        if (!stored) {
          log::error("account", "refreshed tokens could not be stored; holding them until they are",
                     {{"account_id", self->state.row.id}, {"error", context_of(stored.error())}});
          self->state.refreshing = false;
          fail_waiting(self, make_error(errc::database_unavailable, "token store failed"));
          publish(self);
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
        self->state.refreshing = false;
        fail_waiting(self, error);
        publish(self);
      });
}

/// The refresh token was refused: `reauth_required`, unless the database holds a newer
/// generation (another node spent the token and stored its successor), which is loaded instead.
void mark_reauth_required(account_self* self, const runtime_deps& deps, const std::string& code) {
  db_call call{[id = self->state.row.id, generation = self->state.generation, code,
                at = to_iso8601(now(deps))](persistence::database& db) {
    return caf::make_message(
      persistence::account_custody_repository{db}.mark_reauth_required(id, generation, code, at));
  }};
  self->request(deps.db_pool, db_timeout, std::move(call))
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
  refresh_outcome outcome;
  if (answer.failure) {
    outcome.error_code = std::string{to_string(*answer.failure)};
  } else {
    outcome = classify_refresh_response(answer.reply.head.status, answer.reply.body, now(deps));
  }
  switch (outcome.outcome) {
  case refresh_outcome::kind::refreshed:
    self->state.unpersisted =
      pending_tokens{std::move(outcome.access_token),
                     outcome.refresh_token ? std::move(*outcome.refresh_token)
                                           : self->state.credentials->refresh_token,
                     outcome.access_token_expires_at};
    persist_tokens(self, deps);
    return;
  case refresh_outcome::kind::revoked:
    mark_reauth_required(self, deps, outcome.error_code);
    return;
  case refresh_outcome::kind::transient:
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
           [id = self->state.row.id, code = outcome.error_code](persistence::database& db) {
             return persistence::routing_repository{db}.record_refresh_error(id, code);
           });
}

void on_catalog(account_self* self, const fetched& answer, const runtime_deps& deps) {
  if (answer.failure || answer.reply.head.status != 200) {
    log::warn("account", "model catalog sync failed",
              {{"account_id", self->state.row.id},
               {"status", answer.reply.head.status},
               {"failure", answer.failure ? to_string(*answer.failure) : ""}});
    return;
  }
  auto document = json::parse(answer.reply.body, nullptr, false);
  if (!document.is_object() || !document.contains("models") || !document["models"].is_array()) {
    return;
  }
  std::vector<json> models;
  std::vector<persistence::account_model_row> rows;
  const auto at = to_iso8601(now(deps));
  for (const auto& model : document["models"]) {
    if (model.is_object() && model.contains("slug") && model["slug"].is_string()) {
      models.push_back(model);
      rows.push_back({self->state.row.id, model["slug"].get<std::string>(), model.dump(), at});
    }
  }
  self->state.models = std::make_shared<const std::vector<json>>(std::move(models));
  self->state.models_synced = true;
  publish(self);
  db_write(self, deps.db_pool, "replace_models",
           [id = self->state.row.id, rows](persistence::database& db) {
             return persistence::routing_repository{db}.replace_models(id, rows);
           });
}

void schedule_flush(account_self* self) {
  self->state.quota_dirty = true;
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->delayed_send(self, quota_flush_delay, flush_atom::value);
  }
}

/// `later` when it is set and later than `current`.
bool moves_later(std::optional<time_point>& current, const std::optional<time_point>& later) {
  if (later && (!current || *later > *current)) {
    current = later;
    return true;
  }
  return false;
}

void observe(account_self* self, const runtime_deps& deps, const quota_observation& observation) {
  auto& state = self->state;
  state.quota = merge_windows(std::move(state.quota), observation.quota);
  const bool exhaustion_changed = moves_later(state.exhausted_until, observation.exhausted_until);
  const bool demotion_changed = moves_later(state.demoted_until, observation.demoted_until);
  if (observation.plan_type && !observation.plan_type->empty()
      && *observation.plan_type != state.plan_type) {
    state.plan_type = *observation.plan_type;
    state.publish_pending = true;
  }
  // The reporting pool merged these windows already; the other pools can wait for the flush,
  // which keeps a snapshot per request off the request path. Exhaustion and demotion go out at
  // once, and to the other nodes through the database.
  if (exhaustion_changed || demotion_changed) {
    publish(self);
    if (!observation.shared) {
      db_write(self, deps.db_pool, "record_health",
               [id = state.row.id, exhausted = observation.exhausted_until,
                demoted = observation.demoted_until,
                at = to_iso8601(now(deps))](persistence::database& db) {
                 auto iso = [](const std::optional<time_point>& t) {
                   return t ? std::optional<std::string>{to_iso8601(*t)} : std::nullopt;
                 };
                 return persistence::account_custody_repository{db}.record_health(
                   id, iso(exhausted), iso(demoted), at);
               });
    }
  } else {
    state.publish_pending = true;
  }
  if (!observation.quota.empty()) {
    schedule_flush(self);
  }
}

void on_usage(account_self* self, const fetched& answer, const runtime_deps& deps) {
  if (answer.failure || answer.reply.head.status != 200) {
    return;
  }
  auto document = json::parse(answer.reply.body, nullptr, false);
  if (!document.is_object()) {
    return;
  }
  quota_observation observation;
  observation.quota = parse_usage_document(document, now(deps));
  if (document.contains("plan_type") && document["plan_type"].is_string()) {
    observation.plan_type = document["plan_type"].get<std::string>();
  }
  observe(self, deps, observation);
}

void flush_quota(account_self* self, const runtime_deps& deps) {
  self->state.flush_scheduled = false;
  if (self->state.publish_pending) {
    publish(self);
  }
  if (!self->state.quota_dirty) {
    return;
  }
  self->state.quota_dirty = false;
  std::vector<persistence::quota_window_row> rows;
  for (const auto& window : self->state.quota) {
    if (window.window_minutes <= 0) {
      continue;
    }
    rows.push_back(
      {self->state.row.id, window.kind, window.window_minutes, window.used_percent,
       window.reset_at ? std::optional<std::string>{to_iso8601(*window.reset_at)} : std::nullopt,
       "traffic", to_iso8601(window.observed_at), window.limit_id,
       window.limit_name.empty() ? std::nullopt : std::optional<std::string>{window.limit_name}});
  }
  if (rows.empty()) {
    return;
  }
  db_write(self, deps.db_pool, "save_quota_windows", [rows](persistence::database& db) {
    return persistence::routing_repository{db}.save_quota_windows(rows);
  });
}

/// What a node does once its credentials are loaded or its token is due: the owner refreshes,
/// a replica with waiters asks the owner; a usable token serves the waiters.
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
  if (state.owner && token_due(self, deps, refresh_ahead)) {
    start_refresh(self, true);
  }
}

std::vector<json> parse_models(const std::vector<persistence::account_model_row>& rows) {
  std::vector<json> models;
  for (const auto& model : rows) {
    auto parsed = json::parse(model.document, nullptr, false);
    if (parsed.is_object()) {
      models.push_back(std::move(parsed));
    }
  }
  return models;
}

void load(account_self* self, const runtime_deps& deps) {
  self->state.loading = true;
  db_call call{[&services = deps.services, id = self->state.row.id](persistence::database& db) {
    admin::account_service service{services};
    auto credentials = service.decrypt_credentials(id);
    if (!credentials) {
      return caf::make_message(caf::expected<loaded_account>{credentials.error()});
    }
    persistence::routing_repository repository{db};
    auto quota = repository.quota_windows(id);
    auto models = repository.models(id);
    loaded_account loaded{std::move(*credentials), {}, {}};
    if (quota) {
      loaded.quota = std::move(*quota);
    }
    if (models) {
      loaded.models = std::move(*models);
    }
    return caf::make_message(caf::expected<loaded_account>{std::move(loaded)});
  }};
  self->request(deps.db_pool, db_timeout, std::move(call))
    .then(
      [self, &deps](caf::expected<loaded_account>& loaded) {
        auto& state = self->state;
        state.loading = false;
        if (!loaded) {
          log::error("account", "credentials could not be loaded",
                     {{"account_id", state.row.id}, {"error", context_of(loaded.error())}});
          fail_waiting(self, loaded.error());
          return;
        }
        const bool first_load = !state.credentials;
        state.credentials = std::move(loaded->credentials);
        state.generation = state.credentials->generation;
        state.expires_at = jwt_expiry(state.credentials->access_token.expose());
        if (first_load) {
          for (const auto& row : loaded->quota) {
            quota_window window{row.window_kind,
                                row.window_minutes,
                                row.used_percent,
                                row.reset_at ? parse_iso8601(*row.reset_at) : std::nullopt,
                                parse_iso8601(row.observed_at).value_or(time_point{}),
                                row.limit_id,
                                row.limit_name.value_or("")};
            state.quota.push_back(window);
          }
        }
        if (first_load || !state.owner) {
          // A replica takes the catalog its owner stored.
          state.models = std::make_shared<const std::vector<json>>(parse_models(loaded->models));
        }
        publish(self);
        if (first_load && state.owner && !token_expired(self, deps)) {
          sync_catalog(self, deps);
          probe_usage(self, deps);
        }
        after_credentials(self, deps);
      },
      [self](caf::error& error) {
        self->state.loading = false;
        fail_waiting(self, error);
      });
}

caf::result<lease_grant> checkout(account_self* self, const runtime_deps& deps) {
  auto& state = self->state;
  if (state.status == "reauth_required" || state.status == "disabled" || state.status == "paused") {
    return make_error(errc::reauth_required, state.status);
  }
  if (state.loading || state.refreshing || !state.credentials || token_expired(self, deps)) {
    auto promise = self->make_response_promise();
    state.waiting.push_back(promise);
    if (!state.loading && !state.credentials) {
      load(self, deps);
    } else {
      after_credentials(self, deps);
    }
    return promise;
  }
  return grant_of(self);
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

void set_ownership(account_self* self, const runtime_deps& deps, bool owner) {
  auto& state = self->state;
  if (state.owner == owner) {
    return;
  }
  state.owner = owner;
  log::debug("account", owner ? "owning the account" : "keeping a replica of the account",
             {{"account_id", state.row.id}});
  if (!owner || !state.credentials || state.loading) {
    return;
  }
  if (!state.models_synced && !token_expired(self, deps)) {
    sync_catalog(self, deps);
    probe_usage(self, deps);
  }
  after_credentials(self, deps);
}

caf::behavior account_behavior(account_self* self, const runtime_deps* deps_ptr,
                               persistence::routing_account_row row) {
  const runtime_deps& deps = *deps_ptr;
  self->state.status = row.status;
  self->state.plan_type = row.plan_type.value_or("");
  self->state.row = std::move(row);
  load(self, deps);
  self->delayed_send(self, catalog_sync_interval, tick_atom::value);
  self->delayed_send(self, refresh_check_interval, ping_atom::value);
  return {
    [self, &deps](checkout_atom) { return checkout(self, deps); },
    [self, &deps](refresh_atom, int64_t generation) {
      return refresh_past(self, deps, generation);
    },
    [self](refresh_atom) {
      // A retry after a transient refresh failure.
      if (self->state.owner && self->state.status != "reauth_required") {
        start_refresh(self, false);
      }
    },
    [self, &deps](claim_due) {
      if (self->state.refreshing) {
        claim_refresh(self, deps);
      }
    },
    [self, &deps](ownership_atom, bool owner) { set_ownership(self, deps, owner); },
    [self, &deps](generation_atom, int64_t stored) {
      if (stored > self->state.generation && !self->state.refreshing && !self->state.loading) {
        load(self, deps);
      }
    },
    [self, &deps](generation_atom) {
      self->state.awaiting_generation = false;
      if (self->state.refreshing || self->state.loading) {
        return;
      }
      if (!self->state.waiting.empty() || token_expired(self, deps)) {
        load(self, deps);
      }
    },
    [self, &deps](const fetched& answer) {
      switch (answer.kind) {
      case fetch_kind::refresh:
        on_refresh_answer(self, deps, answer);
        break;
      case fetch_kind::models:
        on_catalog(self, answer, deps);
        break;
      case fetch_kind::usage:
        on_usage(self, answer, deps);
        break;
      }
    },
    [self, &deps](const quota_observation& observation) { observe(self, deps, observation); },
    [self](subscribe_atom, const caf::actor& pool) {
      self->state.pools.insert(pool);
      self->send(pool, snapshot_of(self->state));
    },
    [self](unsubscribe_atom, const caf::actor& pool) { self->state.pools.erase(pool); },
    [self, &deps](reload_atom, persistence::routing_account_row& changed) {
      const bool credentials_may_differ = changed.updated_at != self->state.row.updated_at;
      self->state.status = changed.status;
      if (changed.plan_type) {
        self->state.plan_type = *changed.plan_type;
      }
      self->state.row = std::move(changed);
      if (credentials_may_differ && !self->state.refreshing && !self->state.loading) {
        load(self, deps);
      } else {
        publish(self);
      }
    },
    [self, &deps](flush_atom) { flush_quota(self, deps); },
    [self, &deps](ping_atom) {
      self->delayed_send(self, refresh_check_interval, ping_atom::value);
      if (self->state.owner && self->state.credentials && !self->state.loading) {
        after_credentials(self, deps);
      }
    },
    [self, &deps](tick_atom) {
      self->delayed_send(self, catalog_sync_interval, tick_atom::value);
      if (!self->state.credentials || self->state.loading) {
        return;
      }
      if (!self->state.owner) {
        load(self, deps); // the catalog the owner stored meanwhile
      } else if (!token_expired(self, deps)) {
        sync_catalog(self, deps);
      }
    },
  };
}

} // namespace

caf::actor spawn_account_actor(caf::actor_system& system, const runtime_deps& deps,
                               persistence::routing_account_row row) {
  return system.spawn(account_behavior, &deps, std::move(row));
}

} // namespace cxp::actors
