#include "actors/account/account_actor.hpp"

#include "actors/account/account_state.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "actors/upstream/codex_account_calls.hpp"
#include "common/log.hpp"
#include "domain/accounts/token_refresh.hpp"
#include "domain/routing/quota_rows.hpp"
#include "persistence/accounts/account_custody_repository.hpp"

namespace cxp::actors {
namespace account_detail {

time_point now(const runtime_deps& deps) {
  return deps.services.clock.now();
}

account_snapshot snapshot_of(const account_state& state) {
  account_snapshot snapshot{state, state.row.id, nullptr};
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
  grant.account = caf::actor_cast<account_actor>(self);
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

account_caller caller_of(const account_state& state) {
  return {state.credentials->access_token.expose(), state.credentials->chatgpt_account_id};
}

void fetch_upstream(account_self* self, const runtime_deps& deps, fetch_kind kind,
                    upstream_request request) {
  auto me = caf::actor_cast<account_impl>(self);
  deps.upstream->fetch(std::move(request),
                       [me, kind](std::optional<upstream_failure> failure, upstream_reply reply) {
                         caf::anon_send(me, fetched{kind, failure, std::move(reply)});
                       });
}

void sync_catalog(account_self* self, const runtime_deps& deps) {
  fetch_upstream(self, deps, fetch_kind::models,
                 catalog_request(deps.upstream_base_url, caller_of(self->state)));
}

void probe_usage(account_self* self, const runtime_deps& deps) {
  fetch_upstream(self, deps, fetch_kind::usage,
                 usage_request(deps.upstream_base_url, caller_of(self->state)));
}

/// The first catalog will not come from this sync: pools waiting for it stop waiting.
void give_up_first_catalog(account_self* self) {
  if (self->state.catalog_pending) {
    self->state.catalog_pending = false;
    publish(self);
  }
}

void on_catalog(account_self* self, const fetched& answer, const runtime_deps& deps) {
  if (answer.failure || answer.reply.head.status != 200) {
    log::warn("account", "model catalog sync failed",
              {{"account_id", self->state.row.id},
               {"status", answer.reply.head.status},
               {"failure", answer.failure ? to_string(*answer.failure) : ""}});
    give_up_first_catalog(self);
    return;
  }
  auto models = parse_catalog(answer.reply.body);
  if (!models) {
    give_up_first_catalog(self);
    return;
  }
  std::vector<persistence::account_model_row> rows;
  const auto at = to_iso8601(now(deps));
  for (const auto& model : *models) {
    rows.push_back({self->state.row.id, model["slug"].get<std::string>(), model.dump(), at});
  }
  self->state.models = std::make_shared<const std::vector<json>>(std::move(*models));
  self->state.models_synced = true;
  self->state.catalog_pending = false;
  publish(self);
  db_write(self, deps.db_pool, "replace_models",
           [id = self->state.row.id, rows](persistence::database& db) {
             return persistence::routing_repository{db}.replace_models(id, rows);
           });
}

/// Publishes the merged evidence to the pools within `quota_flush_delay`, one snapshot for a
/// burst of observations.
void schedule_publish(account_self* self) {
  self->state.publish_pending = true;
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->delayed_send(self, quota_flush_delay, flush_atom::value);
  }
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

/// Adds `opened` to `circuits` (a later end wins) and drops the circuits that closed by `now`;
/// true when something was added or extended.
bool merge_circuits(std::vector<open_circuit>& circuits, const std::vector<open_circuit>& opened,
                    time_point now) {
  bool changed = false;
  for (const auto& circuit : opened) {
    auto same = std::find_if(circuits.begin(), circuits.end(), [&](const open_circuit& known) {
      return known.model == circuit.model && known.route == circuit.route;
    });
    if (same == circuits.end()) {
      circuits.push_back(circuit);
      changed = true;
    } else if (circuit.until > same->until) {
      same->until = circuit.until;
      changed = true;
    }
  }
  circuits.erase(std::remove_if(circuits.begin(), circuits.end(),
                                [now](const open_circuit& c) { return c.until <= now; }),
                 circuits.end());
  return changed;
}

/// Circuits that opened on this node, for the other nodes.
void record_circuits(account_self* self, const runtime_deps& deps,
                     const std::vector<open_circuit>& opened) {
  for (const auto& circuit : opened) {
    db_write(
      self, deps.db_pool, "record_circuit",
      [id = self->state.row.id, circuit, at = to_iso8601(now(deps))](persistence::database& db) {
        return persistence::account_custody_repository{db}.record_circuit(
          id, circuit.model, std::string{to_string(circuit.route)}, to_iso8601(circuit.until), at);
      });
  }
}

void observe(account_self* self, const runtime_deps& deps, const quota_observation& observation) {
  auto& state = self->state;
  state.quota = domain::merge_windows(std::move(state.quota), observation.quota);
  const bool exhaustion_changed = moves_later(state.exhausted_until, observation.exhausted_until);
  const bool demotion_changed = moves_later(state.demoted_until, observation.demoted_until);
  const bool circuits_changed = merge_circuits(state.circuits, observation.circuits, now(deps));
  if (observation.plan_type && !observation.plan_type->empty()
      && *observation.plan_type != state.plan_type) {
    state.plan_type = *observation.plan_type;
    state.publish_pending = true;
  }
  // The reporting pool merged these windows already; the other pools can wait for the flush,
  // which keeps a snapshot per request off the request path. Exhaustion and demotion go out at
  // once, and to the other nodes through the database.
  if (exhaustion_changed || demotion_changed || circuits_changed) {
    publish(self);
    if (!observation.shared) {
      record_circuits(self, deps, observation.circuits);
    }
    if (!observation.shared && (observation.exhausted_until || observation.demoted_until)) {
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
    // Windows read back from the database are stored already: published, not written again.
    if (observation.shared) {
      schedule_publish(self);
    } else {
      schedule_flush(self);
    }
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
  observation.quota = domain::parse_usage_document(document, now(deps));
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
  auto rows = domain::to_rows(self->state.row.id, self->state.quota, "traffic");
  if (rows.empty()) {
    return;
  }
  db_write(self, deps.db_pool, "save_quota_windows", [rows](persistence::database& db) {
    return persistence::routing_repository{db}.save_quota_windows(rows);
  });
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
  ask_db(self, deps.db_pool, db_timeout,
         [&services = deps.services,
          id = self->state.row.id](persistence::database& db) -> caf::expected<loaded_account> {
           domain::account_service service{services};
           auto credentials = service.decrypt_credentials(id);
           if (!credentials) {
             return credentials.error();
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
           return loaded;
         })
    .then([self, &deps](caf::expected<loaded_account>& loaded) {
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
      state.expires_at = domain::jwt_expiry(state.credentials->access_token.expose());
      // What the jobs and the other nodes stored: newer windows replace older ones.
      state.quota =
        domain::merge_windows(std::move(state.quota), domain::to_windows(loaded->quota));
      if (first_load || !loaded->models.empty()) {
        state.models = std::make_shared<const std::vector<json>>(parse_models(loaded->models));
      }
      if (state.models && !state.models->empty()) {
        state.catalog_pending = false;
      }
      publish(self);
      if (first_load && state.owner && !token_expired(self, deps)) {
        sync_catalog(self, deps);
        probe_usage(self, deps);
      }
      after_credentials(self, deps);
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

account_impl::behavior_type account_behavior(account_self* self, const runtime_deps* deps_ptr,
                                             persistence::routing_account_row row) {
  const runtime_deps& deps = *deps_ptr;
  self->state.status = row.status;
  self->state.plan_type = row.plan_type.value_or("");
  self->state.row = std::move(row);
  self->state.catalog_pending = true;
  load(self, deps);
  self->delayed_send(self, stored_state_interval, tick_atom::value);
  self->delayed_send(self, first_catalog_wait, catalog_due{});
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
    [self, &deps](persist_due) {
      if (self->state.unpersisted) {
        persist_tokens(self, deps);
      }
    },
    [self](catalog_due) { give_up_first_catalog(self); },
    [self, &deps](claim_due) {
      if (self->state.refreshing) {
        claim_refresh(self, deps);
      }
    },
    [self, &deps](refresh_ahead_atom, int64_t generation) {
      auto& state = self->state;
      if (state.owner && generation == state.generation && state.credentials && !state.loading
          && state.status != "reauth_required") {
        start_refresh(self, !token_expired(self, deps));
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
    [self](subscribe_atom, const account_subscriber_actor& pool) {
      self->state.pools.insert(pool);
      self->send(pool, snapshot_of(self->state));
    },
    [self](unsubscribe_atom, const account_subscriber_actor& pool) {
      self->state.pools.erase(pool);
    },
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
    [self, &deps](tick_atom) {
      self->delayed_send(self, stored_state_interval, tick_atom::value);
      if (self->state.credentials && !self->state.loading && !self->state.refreshing) {
        load(self, deps);
      }
    },
  };
}

} // namespace account_detail

account_actor spawn_account_actor(caf::actor_system& system, const runtime_deps& deps,
                                  persistence::routing_account_row row) {
  return system.spawn(account_detail::account_behavior, &deps, std::move(row));
}

} // namespace cxp::actors
