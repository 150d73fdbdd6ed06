#include "actors/runtime/runtime_directory.hpp"

#include <variant>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/pool/pool_actor.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/type_ids.hpp"
#include "common/log.hpp"

namespace cxp::actors {

namespace {

constexpr auto db_timeout = std::chrono::seconds{15};

struct topology {
  std::vector<persistence::routing_pool_row> pools;
  std::vector<persistence::routing_account_row> accounts;
};

} // namespace
} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(caf::expected<cxp::actors::topology>)

namespace cxp::actors {
namespace {

struct directory_state {
  std::map<std::string, pool_actor> pools;
  account_handles accounts;
  account_handles announced_accounts; ///< what the custodian was told last
  std::map<std::string, persistence::routing_account_row> account_rows;
  settings_snapshot settings = std::make_shared<const domain::instance_settings>();
  bool settings_known = false; ///< the settings cache answered once (or failed to)
  bool loaded = false;
  bool reloading = false;
  std::vector<caf::response_promise> reload_waiters;
  /// Requests for pools not known yet, answered after the next reload.
  std::vector<std::pair<caf::response_promise, std::variant<lease_request, pool_view_request>>>
    parked;
  static inline const char* name = "runtime_directory";
};

/// The directory as it addresses itself: `tick_atom` is its reload timer.
using directory_impl = runtime_directory_actor::extend<caf::reacts_to<tick_atom>>;

using directory_self = caf::stateful_actor<directory_state, directory_impl::base>;

caf::expected<topology> read_topology(persistence::database& db) {
  persistence::routing_repository repository{db};
  auto pools = repository.pools();
  if (!pools) {
    return pools.error();
  }
  auto accounts = repository.assigned_accounts();
  if (!accounts) {
    return accounts.error();
  }
  return topology{std::move(*pools), std::move(*accounts)};
}

void apply(directory_self* self, const runtime_deps& deps, const account_custodian_actor& custodian,
           topology& loaded) {
  auto& state = self->state;
  std::map<std::string, size_t> by_state;
  std::set<std::string> present;
  for (auto& row : loaded.accounts) {
    present.insert(row.id);
    ++by_state[row.status];
    auto known = state.account_rows.find(row.id);
    if (known == state.account_rows.end()) {
      state.accounts[row.id] = spawn_account_actor(self->system(), deps, row);
      self->monitor(state.accounts[row.id]);
    } else if (known->second.updated_at != row.updated_at || known->second.status != row.status) {
      self->send(state.accounts[row.id], reload_atom::value, row);
    }
    state.account_rows[row.id] = row;
  }
  for (auto it = state.accounts.begin(); it != state.accounts.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    self->send_exit(it->second, caf::exit_reason::user_shutdown);
    state.account_rows.erase(it->first);
    it = state.accounts.erase(it);
  }
  if (state.accounts != state.announced_accounts) {
    state.announced_accounts = state.accounts;
    self->send(custodian, put_atom::value,
               account_handles{state.accounts.begin(), state.accounts.end()});
  }
  for (const auto* status : {"active", "refreshing", "reauth_required", "paused", "disabled"}) {
    deps.metrics.accounts.add({{"state", status}}).set(static_cast<double>(by_state[status]));
  }
  std::set<std::string> pool_ids;
  for (auto& pool : loaded.pools) {
    pool_ids.insert(pool.id);
    account_handles members;
    for (const auto& id : pool.account_ids) {
      if (auto account = state.accounts.find(id); account != state.accounts.end()) {
        members.emplace(id, account->second);
      }
    }
    auto known = state.pools.find(pool.id);
    if (known == state.pools.end()) {
      auto actor = spawn_pool_actor(self->system(), deps, pool, std::move(members));
      self->monitor(actor);
      self->send(actor, state.settings);
      state.pools.emplace(pool.id, actor);
    } else {
      self->send(known->second, put_atom::value, pool, std::move(members));
    }
  }
  for (auto it = state.pools.begin(); it != state.pools.end();) {
    if (pool_ids.count(it->first)) {
      ++it;
      continue;
    }
    self->send_exit(it->second, caf::exit_reason::user_shutdown);
    it = state.pools.erase(it);
  }
}

void answer_parked(directory_self* self) {
  auto parked = std::move(self->state.parked);
  self->state.parked.clear();
  for (auto& [promise, message] : parked) {
    const auto& pool_id = std::visit([](const auto& request) { return request.pool_id; }, message);
    auto pool = self->state.pools.find(pool_id);
    if (pool != self->state.pools.end()) {
      std::visit([&promise = promise, &handle = pool->second](
                   auto& request) { promise.delegate(handle, std::move(request)); },
                 message);
    } else if (std::holds_alternative<lease_request>(message)) {
      lease_reply reply;
      reply.denial = {errc::pool_unavailable, "unknown pool", std::nullopt, {}, {}};
      promise.deliver(std::move(reply));
    } else {
      promise.deliver(make_error(errc::not_found, "unknown pool"));
    }
  }
}

void reload(directory_self* self, const runtime_deps& deps,
            const account_custodian_actor& custodian) {
  // Pools start with the instance settings, never the defaults: the first reload waits for them
  // (the first tick asks; parked requests are answered after that reload).
  if (self->state.reloading || !self->state.settings_known) {
    return;
  }
  self->state.reloading = true;
  ask_db(self, deps.db_pool, db_timeout, read_topology)
    .then([self, &deps, custodian](caf::expected<topology>& loaded) {
      self->state.reloading = false;
      if (loaded) {
        apply(self, deps, custodian, *loaded);
        self->state.loaded = true;
      } else {
        log::warn("runtime", "routing topology reload failed",
                  {{"error", context_of(loaded.error())}});
      }
      for (auto& waiter : self->state.reload_waiters) {
        waiter.deliver(static_cast<bool>(loaded));
      }
      self->state.reload_waiters.clear();
      answer_parked(self);
    });
}

template <class Request>
caf::response_promise route(directory_self* self, const runtime_deps& deps,
                            const account_custodian_actor& custodian, Request& request) {
  auto promise = self->make_response_promise();
  auto pool = self->state.pools.find(request.pool_id);
  if (pool != self->state.pools.end()) {
    promise.delegate(pool->second, std::move(request));
    return promise;
  }
  self->state.parked.emplace_back(promise, std::move(request));
  reload(self, deps, custodian);
  return promise;
}

directory_impl::behavior_type directory_behavior(directory_self* self, const runtime_deps* deps_ptr,
                                                 settings_cache_actor settings,
                                                 account_custodian_actor custodian,
                                                 std::chrono::milliseconds reload_interval) {
  const runtime_deps& deps = *deps_ptr;
  // Accounts and pools subscribe to each other, so nothing would end them with the directory:
  // they go with it (before the actor system stops, or their timers fire into a dead one).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (const auto& [id, pool] : self->state.pools) {
      self->send_exit(pool, msg.reason);
    }
    for (const auto& [id, account] : self->state.accounts) {
      self->send_exit(account, msg.reason);
    }
    self->quit(std::move(msg.reason));
  });
  // Supervision: a pool or account actor that failed (an exception, a bug) is forgotten and
  // spawned again by the next reload, so one bad request never leaves a pool without its actor.
  self->set_down_handler([self, &deps, custodian](caf::down_msg& down) {
    if (down.reason == caf::exit_reason::user_shutdown || down.reason == caf::exit_reason::normal) {
      return;
    }
    auto& state = self->state;
    auto forget = [&](auto& actors) {
      for (auto it = actors.begin(); it != actors.end(); ++it) {
        if (it->second.address() == down.source) {
          log::error("runtime", "a routing actor failed; restarting it",
                     {{"id", it->first}, {"reason", caf::to_string(down.reason)}});
          state.account_rows.erase(it->first);
          actors.erase(it);
          deps.metrics.actor_restarts.add({}).increment();
          reload(self, deps, custodian);
          return true;
        }
      }
      return false;
    };
    if (!forget(state.pools)) {
      forget(state.accounts);
    }
  });
  reload(self, deps, custodian);
  self->send(self, tick_atom::value);
  return {
    [self, &deps, custodian](lease_request& request) -> caf::result<lease_reply> {
      return route(self, deps, custodian, request);
    },
    [self, &deps, custodian](pool_view_request& request) -> caf::result<pool_view> {
      return route(self, deps, custodian, request);
    },
    [self](const pool_handle_request& request) -> caf::result<lease_source_actor> {
      auto pool = self->state.pools.find(request.pool_id);
      if (pool == self->state.pools.end()) {
        return make_error(errc::not_found, "unknown pool");
      }
      return lease_source_actor{pool->second};
    },
    [self, &deps, custodian](reload_atom) -> caf::result<bool> {
      auto promise = self->make_response_promise();
      self->state.reload_waiters.push_back(promise);
      reload(self, deps, custodian);
      return promise;
    },
    [self, &deps, settings, custodian, reload_interval](tick_atom) {
      self->delayed_send(self, reload_interval, tick_atom::value);
      reload(self, deps, custodian);
      self->request(settings, db_timeout, get_atom::value)
        .then(
          [self, &deps, custodian](settings_snapshot& snapshot) {
            const bool first = !self->state.settings_known;
            self->state.settings_known = true;
            if (snapshot != self->state.settings) {
              self->state.settings = snapshot;
              for (const auto& [id, pool] : self->state.pools) {
                self->send(pool, snapshot);
              }
            }
            if (first) {
              reload(self, deps, custodian);
            }
          },
          [self, &deps, custodian](caf::error& error) {
            if (!self->state.settings_known) {
              log::warn("runtime", "instance settings unavailable; routing with the defaults",
                        {{"error", caf::to_string(error)}});
              self->state.settings_known = true;
              reload(self, deps, custodian);
            }
          });
    },
  };
}

} // namespace

runtime_directory_actor spawn_runtime_directory(caf::actor_system& system, const runtime_deps& deps,
                                                settings_cache_actor settings,
                                                account_custodian_actor custodian,
                                                std::chrono::milliseconds reload_interval) {
  return system.spawn(directory_behavior, &deps, std::move(settings), std::move(custodian),
                      reload_interval);
}

} // namespace cxp::actors
