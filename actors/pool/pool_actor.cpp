#include "actors/pool/pool_actor.hpp"

#include <algorithm>

#include "actors/db/db_worker.hpp"
#include "actors/pool/pool_state.hpp"
#include "common/log.hpp"
#include "domain/routing/pool_capacity.hpp"

namespace cxp::actors {

namespace {

using namespace pool_detail;

constexpr auto checkout_timeout = std::chrono::seconds{60};
/// How often the capacity gauges are recomputed without a change (a usage limit's reset passing).
constexpr auto capacity_interval = std::chrono::seconds{15};
/// The longest `/models` waits for accounts whose first catalog is on the way (a new pool, a new
/// account): a client that lists models right after start sees them all, and none waits long.
constexpr auto catalog_view_wait = std::chrono::seconds{5};

/// Sets the pool's capacity gauges (`domain::capacity_of` over its accounts' snapshots).
void publish_capacity(pool_self* self) {
  auto& st = self->state;
  if (st.metrics == nullptr || st.config.id.empty()) {
    return;
  }
  std::vector<domain::quota_member> members;
  for (const auto& [id, snapshot] : st.snapshots) {
    members.push_back(quota_member_of(snapshot));
  }
  const auto capacity = domain::capacity_of(members, st.clock->now());
  const metrics::labels pool{{"pool", st.config.id}};
  st.metrics->pool_accounts.add(pool).set(capacity.accounts);
  st.metrics->pool_eligible_accounts.add(pool).set(capacity.eligible);
  for (const auto& [window, used] : {std::pair{"primary", capacity.primary_used_percent},
                                     std::pair{"secondary", capacity.secondary_used_percent}}) {
    const metrics::labels labels{{"pool", st.config.id}, {"window", window}};
    if (used) {
      st.metrics->pool_quota_used_percent.add(labels).set(*used);
    } else {
      st.metrics->pool_quota_used_percent.remove(labels);
    }
  }
}

/// Drops the pool's gauges: a deleted pool must not keep alerting with its last numbers.
void retract_capacity(pool_self* self) {
  auto& st = self->state;
  if (st.metrics == nullptr || st.config.id.empty()) {
    return;
  }
  st.metrics->pool_accounts.remove({{"pool", st.config.id}});
  st.metrics->pool_eligible_accounts.remove({{"pool", st.config.id}});
  for (const auto* window : {"primary", "secondary"}) {
    st.metrics->pool_quota_used_percent.remove({{"pool", st.config.id}, {"window", window}});
  }
}

caf::result<lease_reply> choose(pool_self* self, lease_request request, std::string pinned);

/// Completes a grant with the pool's part and counts the lease (until its attempt report).
lease_reply granted(pool_self* self, lease_grant grant, bool pinned, bool probe,
                    quota_evidence quota) {
  grant.pool = caf::actor_cast<attempt_sink_actor>(self);
  grant.quota = std::move(quota);
  grant.pinned = pinned;
  grant.probe = probe;
  grant.ring_size = self->state.config.ring_size;
  grant.settings = self->state.settings;
  self->state.metrics->leases_in_use.add({}).increment();
  lease_reply reply;
  reply.grant = std::move(grant);
  return reply;
}

/// Leases `account_id`: from the credentials its last snapshot carried when they are still
/// usable, else through the account actor (which loads or refreshes them first). When that
/// fails (e.g. the refresh token was revoked) the next account is tried, unless the session is
/// pinned there.
caf::result<lease_reply> checkout(pool_self* self, lease_request request,
                                  const std::string& account_id, bool pinned, bool probe) {
  auto quota = quota_evidence_for(self, request);
  const auto& ready = self->state.snapshots[account_id].credentials;
  if (ready && (!ready->usable_until || self->state.clock->now() < *ready->usable_until)) {
    lease_grant grant;
    grant.account_id = account_id;
    grant.chatgpt_account_id = ready->chatgpt_account_id;
    grant.access_token = ready->access_token;
    grant.token_generation = ready->generation;
    grant.account = self->state.accounts[account_id];
    grant.routing = std::move(request.routing);
    return granted(self, std::move(grant), pinned, probe, std::move(quota));
  }
  auto promise = self->make_response_promise();
  const auto key = circuit_key(account_id, request.model, request.route);
  self->request(self->state.accounts[account_id], checkout_timeout, checkout_atom::value)
    .then(
      [self, promise, pinned, probe, quota, routing = request.routing](lease_grant& grant) mutable {
        grant.routing = std::move(routing);
        promise.deliver(granted(self, std::move(grant), pinned, probe, std::move(quota)));
      },
      [self, promise, request, account_id, pinned, key](caf::error& error) mutable {
        circuit_of(self, key).release_probe();
        request.routing.candidates.push_back(
          {account_id, "failed", std::string{to_string(to_errc(error))}});
        if (pinned) {
          promise.deliver(with_routing(deny(to_errc(error) == errc::reauth_required
                                              ? errc::pinned_continuation_unavailable
                                              : to_errc(error),
                                            "pinned account unavailable: " + context_of(error)),
                                       std::move(request.routing)));
          return;
        }
        request.tried.push_back(account_id);
        promise.delegate(caf::actor_cast<pool_actor>(self), std::move(request));
      });
  return promise;
}

/// A pinned session's answer when its account cannot serve and no account of the pool has room
/// either: the pool's usage-limit denial (its client shows the usage-limit message and when the
/// first account comes back), instead of a refused continuation it could do nothing about.
std::optional<lease_reply> pool_wide_usage_limit(pool_self* self, const lease_request& request,
                                                 time_point now) {
  auto untried = request;
  untried.tried.clear();
  const size_t ring = static_cast<size_t>(self->state.config.ring_size);
  auto selected =
    domain::select_accounts(candidates_of(self, untried, now),
                            {self->state.strategy, request.seed, std::nullopt, ring}, now);
  if (!selected.ordered.empty()) {
    return std::nullopt;
  }
  auto reply = denial_for(self, selected, request, now);
  if (reply.denial.code != errc::usage_limit_reached) {
    return std::nullopt;
  }
  reply.denial.routing = request.routing;
  record_selection(self, reply.denial.routing, selected, selected.excluded.size(),
                   candidates_of(self, untried, now), {}, now);
  return reply;
}

caf::result<lease_reply> choose(pool_self* self, lease_request request, std::string pinned) {
  const auto now = self->state.clock->now();
  if (self->state.config.status != "active" || self->state.accounts.empty()) {
    return with_routing(deny(errc::pool_unavailable, "pool disabled or empty"),
                        std::move(request.routing));
  }
  auto candidates = candidates_of(self, request, now);
  if (!pinned.empty()) {
    if (std::find(request.tried.begin(), request.tried.end(), pinned) != request.tried.end()) {
      if (auto limited = pool_wide_usage_limit(self, request, now)) {
        return *limited;
      }
      record_pinned(request.routing, candidates, pinned, "failed", "pinned_account_failed");
      return with_routing(deny(errc::pinned_continuation_unavailable, "pinned account failed"),
                          std::move(request.routing));
    }
    domain::selection_request pin_only{self->state.strategy, request.seed, pinned, 1};
    auto it = std::find_if(candidates.begin(), candidates.end(),
                           [&](const auto& c) { return c.account_id == pinned; });
    if (it == candidates.end()) {
      record_pinned(request.routing, candidates, pinned, "skipped", "not_in_pool");
      return with_routing(
        deny(errc::pinned_continuation_unavailable, "pinned account left the pool"),
        std::move(request.routing));
    }
    auto selected = domain::select_accounts({*it}, pin_only, now);
    if (selected.ordered.empty()) {
      if (auto limited = pool_wide_usage_limit(self, request, now)) {
        return *limited;
      }
      record_pinned(request.routing, candidates, pinned, "skipped",
                    skip_reason(self, selected.excluded.front()));
      return with_routing(deny(errc::pinned_continuation_unavailable,
                               "pinned account is " + selected.excluded.front().reason),
                          std::move(request.routing));
    }
    auto& circuit = circuit_of(self, circuit_key(pinned, request.model, request.route));
    const bool probe = circuit.state(now) == domain::circuit_state::half_open;
    if (!circuit.try_acquire(now)) {
      record_pinned(request.routing, candidates, pinned, "skipped", "circuit_open");
      return with_routing(
        deny(errc::pinned_continuation_unavailable, "pinned account circuit is open"),
        std::move(request.routing));
    }
    record_pinned(request.routing, candidates, pinned, "chosen", "");
    return checkout(self, std::move(request), pinned, true, probe);
  }
  if (static_cast<int32_t>(request.tried.size()) >= self->state.config.ring_size) {
    return with_routing(deny(errc::no_eligible_account, "ring exhausted"),
                        std::move(request.routing));
  }
  const size_t ring = static_cast<size_t>(self->state.config.ring_size);
  auto selected = domain::select_accounts(
    candidates, {self->state.strategy, request.seed, std::nullopt, ring}, now);
  const auto excluded = selected.excluded.size();
  for (const auto& account_id : selected.ordered) {
    auto& circuit = circuit_of(self, circuit_key(account_id, request.model, request.route));
    const bool probe = circuit.state(now) == domain::circuit_state::half_open;
    if (circuit.try_acquire(now)) {
      record_selection(self, request.routing, selected, excluded, candidates, account_id, now);
      return checkout(self, std::move(request), account_id, false, probe);
    }
    selected.excluded.push_back({account_id, "circuit_open"});
  }
  record_selection(self, request.routing, selected, excluded, candidates, {}, now);
  return with_routing(denial_for(self, selected, request, now), std::move(request.routing));
}

std::string_view state_name(domain::circuit_state state) {
  switch (state) {
  case domain::circuit_state::closed:
    return "closed";
  case domain::circuit_state::open:
    return "open";
  case domain::circuit_state::half_open:
    return "half_open";
  }
  return "closed";
}

void on_report(pool_self* self, const runtime_deps& deps, attempt_report& report) {
  deps.metrics.leases_in_use.add({}).decrement();
  const auto now = self->state.clock->now();
  if (auto budget = self->state.budgets.find(report.api_key_id);
      budget != self->state.budgets.end() && report.tokens > 0) {
    budget->second.add_tokens(report.tokens, now);
  }
  auto& circuit = circuit_of(self, circuit_key(report.account_id, report.model, report.route));
  const auto before = circuit.state(now);
  std::optional<time_point> demoted_until;
  switch (report.result) {
  case attempt_result::succeeded:
    circuit.record_success();
    self->state.last_success[report.account_id] = now;
    self->state.demoted_until.erase(report.account_id);
    if (!report.session_key.empty() && self->state.config.sticky_sessions) {
      pin_session(self, deps, report.session_key, report.account_id);
    }
    break;
  case attempt_result::usage_limited:
  case attempt_result::upstream_error:
  case attempt_result::network_error:
  case attempt_result::unauthorized: {
    circuit.record_failure(now);
    const auto demotion = self->state.settings->gateway().demotion;
    self->state.demoted_until[report.account_id] = now + demotion;
    demoted_until = now + demotion;
    break;
  }
  case attempt_result::rejected:
  case attempt_result::cancelled:
    circuit.release_probe();
    break;
  }
  const auto after = circuit.state(now);
  std::vector<open_circuit> opened;
  if (after == domain::circuit_state::open && before != domain::circuit_state::open) {
    opened.push_back({report.model, report.route, circuit.opened_until()});
  }
  if (before != after) {
    deps.metrics.circuit_transitions
      .add(
        {{"transition", std::string{state_name(before)} + "_to_" + std::string{state_name(after)}}})
      .increment();
  }
  auto account = self->state.accounts.find(report.account_id);
  if (account == self->state.accounts.end()) {
    return;
  }
  if (!report.quota.empty() || report.exhausted_until || report.plan_type || demoted_until
      || !opened.empty()) {
    auto& snapshot = self->state.snapshots[report.account_id];
    snapshot.quota = domain::merge_windows(std::move(snapshot.quota), report.quota);
    self->state.quota_members.reset();
    if (report.exhausted_until) {
      snapshot.exhausted_until = report.exhausted_until;
    }
    publish_capacity(self);
    self->send(account->second,
               quota_observation{std::move(report.quota), report.exhausted_until, report.plan_type,
                                 demoted_until, std::move(opened), false});
  }
}

pool_view view_of(pool_self* self, const pool_view_request& request) {
  pool_view view;
  for (const auto& [id, snapshot] : self->state.snapshots) {
    view.accounts.push_back(snapshot);
    view.accounts.back().credentials.reset();
  }
  if (auto budget = self->state.budgets.find(request.api_key_id);
      request.caps.counts_tokens() && budget != self->state.budgets.end()) {
    view.key_windows = budget->second.windows(request.caps, self->state.clock->now());
  }
  return view;
}

bool catalogs_pending(pool_self* self) {
  return std::any_of(
    self->state.snapshots.begin(), self->state.snapshots.end(),
    [](const auto& entry) { return entry.second.routable() && entry.second.catalog_pending; });
}

/// Answers the held views once no account's first catalog is on the way any more.
void release_views(pool_self* self) {
  if (self->state.held_views.empty() || catalogs_pending(self)) {
    return;
  }
  for (auto& [serial, held] : self->state.held_views) {
    held.promise.deliver(view_of(self, held.request));
  }
  self->state.held_views.clear();
}

void set_membership(pool_self* self, persistence::routing_pool_row config,
                    account_handles accounts) {
  auto me = caf::actor_cast<account_subscriber_actor>(self);
  for (const auto& [id, handle] : self->state.accounts) {
    if (!accounts.count(id) || accounts[id] != handle) {
      self->send(handle, unsubscribe_atom::value, me);
      self->state.snapshots.erase(id);
    }
  }
  for (const auto& [id, handle] : accounts) {
    if (!self->state.accounts.count(id) || self->state.accounts[id] != handle) {
      self->send(handle, subscribe_atom::value, me);
      // Routable until its first snapshot says otherwise: a checkout on an account that cannot
      // serve fails and the next one is tried, so a request racing the subscription still works.
      auto& provisional = self->state.snapshots[id];
      provisional.account_id = id;
      provisional.status = "active";
      provisional.catalog_pending = true;
    }
  }
  self->state.quota_members.reset();
  self->state.strategy = domain::parse_routing_strategy(config.routing_strategy)
                           .value_or(domain::routing_strategy::bridge_ring);
  self->state.config = std::move(config);
  self->state.accounts = std::move(accounts);
}

pool_impl::behavior_type pool_behavior(pool_self* self, const runtime_deps* deps_ptr,
                                       persistence::routing_pool_row config,
                                       account_handles accounts) {
  const runtime_deps& deps = *deps_ptr;
  self->state.clock = &deps.services.clock;
  self->state.metrics = &deps.metrics;
  set_membership(self, std::move(config), std::move(accounts));
  publish_capacity(self);
  self->delayed_send(self, capacity_interval, tick_atom::value);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    retract_capacity(self);
    for (const auto& [key, session] : self->state.sessions) {
      self->send_exit(session.actor, msg.reason);
    }
    self->quit(std::move(msg.reason));
  });
  self->set_down_handler([self](caf::down_msg& down) {
    auto& sessions = self->state.sessions;
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->second.actor.address() == down.source) {
        sessions.erase(it);
        return;
      }
    }
  });
  return {
    [self, &deps](lease_request& request) -> caf::result<lease_reply> {
      // A request back from its shared pin lookup was admitted already.
      if (request.tried.empty() && request.caps.any() && !request.shared_pin_checked) {
        if (auto answered = over_budget(self, deps, request)) {
          return std::move(*answered);
        }
      }
      if (request.session_key.empty() || !self->state.config.sticky_sessions) {
        return choose(self, std::move(request), {});
      }
      auto session = self->state.sessions.find(request.session_key);
      if (session == self->state.sessions.end()) {
        // A retry (`tried` not empty) follows a first try that looked already: a pinned session
        // never fails over.
        if (request.account_hint.empty() && !request.shared_pin_checked && request.tried.empty()) {
          return with_shared_pin(self, deps, std::move(request));
        }
        auto hint = request.account_hint;
        return choose(self, std::move(request), std::move(hint));
      }
      self->send(session->second.actor, ping_atom::value);
      return choose(self, std::move(request), session->second.account_id);
    },
    [self, &deps](attempt_report& report) { on_report(self, deps, report); },
    [self](account_snapshot& snapshot) {
      if (self->state.accounts.count(snapshot.account_id)) {
        const auto now = self->state.clock->now();
        for (const auto& circuit : snapshot.circuits) {
          if (circuit.until > now) {
            circuit_of(self, circuit_key(snapshot.account_id, circuit.model, circuit.route))
              .open_until(circuit.until);
          }
        }
        self->state.snapshots[snapshot.account_id] = std::move(snapshot);
        self->state.quota_members.reset();
        publish_capacity(self);
        release_views(self);
      }
    },
    [self](tick_atom) {
      publish_capacity(self);
      self->delayed_send(self, capacity_interval, tick_atom::value);
    },
    [self](settings_snapshot& settings) { self->state.settings = std::move(settings); },
    [self](put_atom, persistence::routing_pool_row& changed, account_handles& members) {
      set_membership(self, std::move(changed), std::move(members));
      publish_capacity(self);
      release_views(self);
    },
    [self](const pool_view_request& request) -> caf::result<pool_view> {
      if (!catalogs_pending(self)) {
        return view_of(self, request);
      }
      const auto serial = ++self->state.last_view_serial;
      auto promise = self->make_response_promise<pool_view>();
      self->state.held_views.emplace(serial, held_view{promise, request});
      self->delayed_send(self, catalog_view_wait, view_due{serial});
      return promise;
    },
    [self](view_due due) {
      if (auto held = self->state.held_views.find(due.serial);
          held != self->state.held_views.end()) {
        held->second.promise.deliver(view_of(self, held->second.request));
        self->state.held_views.erase(held);
      }
    },
  };
}

} // namespace

pool_actor spawn_pool_actor(caf::actor_system& system, const runtime_deps& deps,
                            persistence::routing_pool_row config, account_handles accounts) {
  return caf::actor_cast<pool_actor>(
    system.spawn(pool_behavior, &deps, std::move(config), std::move(accounts)));
}

} // namespace cxp::actors
