#include "actors/account/account_custody.hpp"

#include <map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/notices/node_notices.hpp"
#include "actors/pool/pool_actor.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/type_ids.hpp"
#include "common/log.hpp"
#include "domain/accounts/account_ownership.hpp"
#include "domain/routing/quota_rows.hpp"
#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::actors {

namespace {

constexpr auto db_timeout = std::chrono::seconds{15};
/// Evidence is read back from a little before the previous read: rows written by a transaction
/// that committed late, or stamped by a node whose clock runs slightly behind, are not missed
/// (applying evidence twice changes nothing).
constexpr auto evidence_overlap = std::chrono::seconds{2};

struct custody_round {
  int64_t owner_nodes = 0;
  std::vector<persistence::account_lease_row> held;
};

struct evidence {
  std::vector<std::pair<std::string, int64_t>> generations;
  std::vector<persistence::account_health_row> health;
  std::vector<persistence::account_circuit_row> circuits;
  std::vector<persistence::refresh_request> refresh_requests;
  /// Quota windows any node stored: every node's pooled quota view reads the same evidence.
  std::vector<persistence::quota_window_row> quota;
};

} // namespace
} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(caf::expected<cxp::actors::custody_round>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(caf::expected<cxp::actors::evidence>)

namespace cxp::actors {
namespace {

struct custodian_state {
  account_handles accounts;
  std::set<std::string> owned;
  std::string owned_until; ///< the earliest expiry of the leases behind `owned`
  custody_status status;
  bool settling = false;
  bool reading = false;
  bool handed_off = false;
  std::string evidence_since; ///< empty: read every health row once
  /// Until then nodes started together may not have registered yet: no owner is no alarm.
  time_point alarm_after{};
  bool alarmed = false;
  static inline const char* name = "account_custodian";
};

/// The custodian as it addresses itself: `tick_atom` settles its leases, `evidence_atom` reads
/// what other nodes recorded.
using custodian_impl =
  account_custodian_actor::extend<caf::reacts_to<tick_atom>, caf::reacts_to<evidence_atom>>;

using custodian_self = caf::stateful_actor<custodian_state, custodian_impl::base>;

void tell_ownership(custodian_self* self, const std::string& account_id, bool owned) {
  if (auto account = self->state.accounts.find(account_id); account != self->state.accounts.end()) {
    self->send(account->second, ownership_atom::value, owned);
  }
}

void apply_round(custodian_self* self, const runtime_deps& deps, const custody_round& round) {
  auto& state = self->state;
  const auto now = to_iso8601(deps.services.clock.now());
  std::set<std::string> owned;
  state.owned_until.clear();
  for (const auto& lease : round.held) {
    if (lease.expires_at > now) {
      owned.insert(lease.account_id);
      if (state.owned_until.empty() || lease.expires_at < state.owned_until) {
        state.owned_until = lease.expires_at;
      }
    }
  }
  for (const auto& [id, handle] : state.accounts) {
    const bool was = state.owned.count(id) > 0;
    const bool is = owned.count(id) > 0;
    if (was != is || !state.status.settled) {
      tell_ownership(self, id, is);
    }
  }
  const bool alarming = round.owner_nodes == 0 && deps.services.clock.now() >= state.alarm_after;
  if (alarming && !state.alarmed) {
    log::error("custody",
               "no live node may own upstream accounts: nobody refreshes tokens, probes usage or "
               "syncs catalogs; start a node of role all, worker or scheduler",
               {{"accounts", static_cast<int64_t>(state.accounts.size())}});
  } else if (!alarming && state.alarmed && round.owner_nodes > 0) {
    log::info("custody", "a node that may own upstream accounts is live again",
              {{"owner_nodes", round.owner_nodes}});
  }
  state.alarmed = alarming;
  state.status.alarm = alarming;
  state.owned = std::move(owned);
  state.status.owner_nodes = round.owner_nodes;
  state.status.owned = static_cast<int64_t>(state.owned.size());
  state.status.accounts = static_cast<int64_t>(state.accounts.size());
  state.status.settled = true;
  if (round.owner_nodes > 0 || alarming) {
    deps.metrics.account_owner_nodes.add({}).set(static_cast<double>(round.owner_nodes));
  }
  deps.metrics.accounts_owned.add({}).set(static_cast<double>(state.owned.size()));
}

/// Leases that could not be renewed (the database is unreachable) lapse: past their expiry this
/// node stops acting as the owner, since another node may own the accounts by now.
void drop_lapsed(custodian_self* self, const runtime_deps& deps) {
  auto& state = self->state;
  if (state.owned.empty() || to_iso8601(deps.services.clock.now()) < state.owned_until) {
    return;
  }
  log::warn("custody", "account leases lapsed without renewal; no longer owning them",
            {{"accounts", static_cast<int64_t>(state.owned.size())}});
  for (const auto& id : state.owned) {
    tell_ownership(self, id, false);
  }
  state.owned.clear();
  state.status.owned = 0;
  deps.metrics.accounts_owned.add({}).set(0.0);
}

void settle(custodian_self* self, const runtime_deps& deps, const custody_options& options) {
  if (self->state.settling || self->state.handed_off) {
    return;
  }
  self->state.settling = true;
  std::set<std::string> ids;
  for (const auto& [id, handle] : self->state.accounts) {
    ids.insert(id);
  }
  ask_db(self, deps.db_pool, db_timeout,
         [ids = std::move(ids), options, now = deps.services.clock.now()](
           persistence::database& db) -> caf::expected<custody_round> {
           auto nodes = persistence::cluster_node_repository{db}.list();
           if (!nodes) {
             return nodes.error();
           }
           const auto candidates = domain::owner_candidates(
             *nodes, now, options.lease_ttl,
             options.may_own ? std::optional<std::string>{options.node_id} : std::nullopt);
           persistence::custody_plan plan{options.node_id, {}};
           if (options.may_own) {
             plan.own = domain::accounts_owned_by(options.node_id, ids, candidates);
           }
           auto held =
             persistence::account_custody_repository{db}.settle(plan, now, options.lease_ttl);
           if (!held) {
             return held.error();
           }
           return custody_round{static_cast<int64_t>(candidates.size()), std::move(*held)};
         })
    .then([self, &deps](caf::expected<custody_round>& round) {
      self->state.settling = false;
      if (!round) {
        log::warn("custody", "account custody round failed",
                  {{"error", context_of(round.error())}});
        drop_lapsed(self, deps);
        return;
      }
      if (!self->state.handed_off) {
        apply_round(self, deps, *round);
      }
    });
}

void apply_evidence(custodian_self* self, const runtime_deps& deps, const evidence& read) {
  auto& accounts = self->state.accounts;
  for (const auto& [id, generation] : read.generations) {
    if (auto account = accounts.find(id); account != accounts.end()) {
      self->send(account->second, generation_atom::value, generation);
    }
  }
  const auto now = deps.services.clock.now();
  for (const auto& row : read.health) {
    auto account = accounts.find(row.account_id);
    if (account == accounts.end()) {
      continue;
    }
    quota_observation observation;
    observation.shared = true;
    if (row.exhausted_until) {
      observation.exhausted_until = parse_iso8601(*row.exhausted_until);
    }
    if (row.demoted_until) {
      observation.demoted_until = parse_iso8601(*row.demoted_until);
    }
    if ((observation.exhausted_until && *observation.exhausted_until > now)
        || (observation.demoted_until && *observation.demoted_until > now)) {
      self->send(account->second, std::move(observation));
    }
  }
  for (const auto& row : read.circuits) {
    auto account = accounts.find(row.account_id);
    auto route = parse_route_class(row.route_class);
    auto until = parse_iso8601(row.open_until);
    if (account == accounts.end() || !route || !until) {
      continue;
    }
    quota_observation observation;
    observation.shared = true;
    observation.circuits.push_back({row.model, *route, *until});
    self->send(account->second, std::move(observation));
  }
  std::map<std::string, std::vector<persistence::quota_window_row>> quota_by_account;
  for (const auto& row : read.quota) {
    quota_by_account[row.account_id].push_back(row);
  }
  for (const auto& [id, rows] : quota_by_account) {
    if (auto account = accounts.find(id); account != accounts.end()) {
      quota_observation observation;
      observation.shared = true;
      observation.quota = domain::to_windows(rows);
      self->send(account->second, std::move(observation));
    }
  }
  for (const auto& request : read.refresh_requests) {
    if (!self->state.owned.count(request.account_id)) {
      continue;
    }
    if (auto account = accounts.find(request.account_id); account != accounts.end()) {
      if (request.ahead) {
        self->send(account->second, refresh_ahead_atom::value, request.generation);
      } else {
        caf::anon_send(account->second, refresh_atom::value, request.generation);
      }
    }
  }
}

void read_evidence(custodian_self* self, const runtime_deps& deps, const custody_options& options) {
  if (self->state.reading) {
    return;
  }
  self->state.reading = true;
  const auto now = deps.services.clock.now();
  ask_db(self, deps.db_pool, db_timeout,
         [since = self->state.evidence_since, node_id = options.node_id,
          now_iso = to_iso8601(now)](persistence::database& db) -> caf::expected<evidence> {
           persistence::account_custody_repository custody{db};
           auto generations = custody.generations_since(since);
           auto health = custody.health_since(since);
           auto circuits = custody.circuits_since(since, now_iso);
           auto requests = custody.refresh_requests(node_id);
           auto quota = persistence::routing_repository{db}.quota_windows_since(since);
           if (!generations || !health || !circuits || !requests || !quota) {
             return !generations ? generations.error()
                    : !health    ? health.error()
                    : !circuits  ? circuits.error()
                    : !requests  ? requests.error()
                                 : quota.error();
           }
           return evidence{std::move(*generations), std::move(*health), std::move(*circuits),
                           std::move(*requests), std::move(*quota)};
         })
    .then([self, &deps,
           next_since = to_iso8601(now - evidence_overlap)](caf::expected<evidence>& read) {
      self->state.reading = false;
      if (!read) {
        log::warn("custody", "account evidence could not be read",
                  {{"error", context_of(read.error())}});
        return;
      }
      // The first read saw every health row; generations before now were loaded at spawn.
      self->state.evidence_since = next_since;
      apply_evidence(self, deps, *read);
    });
}

custodian_impl::behavior_type custodian_behavior(custodian_self* self, const runtime_deps* deps_ptr,
                                                 custody_options options) {
  const runtime_deps& deps = *deps_ptr;
  self->state.status.may_own = options.may_own;
  self->state.alarm_after = deps.services.clock.now() + options.lease_ttl;
  // Generations stored before this node started are what its account actors load at spawn.
  self->state.evidence_since.clear();
  self->send(self, tick_atom::value);
  self->send(self, evidence_atom::value);
  // An owner on a peer announces new generations at once; the evidence poll is the safety net.
  subscribe_to<account_tokens_changed>(self);
  const auto renewal = std::max(options.lease_ttl / 3, std::chrono::milliseconds{100});
  return {
    [self, &deps, options](put_atom, account_handles& accounts) {
      for (const auto& [id, handle] : accounts) {
        auto known = self->state.accounts.find(id);
        if (known == self->state.accounts.end() || known->second != handle) {
          self->send(handle, ownership_atom::value, self->state.owned.count(id) > 0);
        }
      }
      self->state.accounts = std::move(accounts);
      self->state.status.accounts = static_cast<int64_t>(self->state.accounts.size());
      settle(self, deps, options);
    },
    [self, &deps, options, renewal](tick_atom) {
      self->delayed_send(self, renewal, tick_atom::value);
      settle(self, deps, options);
    },
    [self, &deps, options](evidence_atom) {
      self->delayed_send(self, options.evidence_poll, evidence_atom::value);
      read_evidence(self, deps, options);
    },
    [self](get_atom) { return self->state.status; },
    [self](const account_tokens_changed& changed) {
      if (auto account = self->state.accounts.find(changed.account_id);
          account != self->state.accounts.end()) {
        self->send(account->second, generation_atom::value, changed.generation);
      }
    },
    [self, &deps, options](hand_off_atom) -> caf::result<int64_t> {
      self->state.handed_off = true;
      for (const auto& id : self->state.owned) {
        tell_ownership(self, id, false);
      }
      self->state.owned.clear();
      auto promise = self->make_response_promise<int64_t>();
      ask_db(
        self, deps.db_pool, db_timeout,
        [node_id = options.node_id, now = deps.services.clock.now()](persistence::database& db) {
          return persistence::account_custody_repository{db}.hand_off_all(node_id, now);
        })
        .then([promise](caf::expected<int64_t>& count) mutable {
          promise.deliver(count ? *count : int64_t{0});
        });
      return promise;
    },
  };
}

} // namespace

account_custodian_actor spawn_account_custodian(caf::actor_system& system, const runtime_deps& deps,
                                                custody_options options) {
  return system.spawn(custodian_behavior, &deps, std::move(options));
}

} // namespace cxp::actors
