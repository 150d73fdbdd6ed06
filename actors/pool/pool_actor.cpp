#include "actors/pool/pool_actor.hpp"

#include <algorithm>
#include <unordered_map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/session/session_actor.hpp"
#include "actors/type_ids.hpp"
#include "common/log.hpp"
#include "domain/routing/circuit_breaker.hpp"
#include "domain/routing/pool_capacity.hpp"
#include "domain/routing/selection_policy.hpp"
#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::actors {

namespace {

constexpr auto checkout_timeout = std::chrono::seconds{60};
constexpr auto db_timeout = std::chrono::seconds{15};
/// How often the capacity gauges are recomputed without a change (a usage limit's reset passing).
constexpr auto capacity_interval = std::chrono::seconds{15};

struct pinned_session {
  session_actor actor;
  std::string account_id;
  time_point shared_until{}; ///< the pin stored for the other nodes lasts until then
};

struct pool_state {
  persistence::routing_pool_row config;
  domain::routing_strategy strategy = domain::routing_strategy::bridge_ring;
  account_handles accounts;
  std::map<std::string, account_snapshot> snapshots;
  /// The snapshots as the pooled quota view reads them; rebuilt on the first lease after one
  /// changed (null until then), and shared by every lease of that moment.
  std::shared_ptr<const std::vector<domain::quota_member>> quota_members;
  std::map<std::string, domain::circuit_breaker> circuits; ///< "<account>|<model>|<route>"
  std::map<std::string, time_point> demoted_until;
  std::map<std::string, time_point> last_success;
  /// Session key → its session actor and the account this pool pinned it to. The pool answers
  /// lookups from here; the actor keeps the TTL (its exit drops the entry).
  std::unordered_map<std::string, pinned_session> sessions;
  /// Consumption of this pool's keys that have caps (per node).
  std::unordered_map<std::string, domain::key_budget> budgets;
  /// Leases of keys whose token usage so far is being read (see seed_budget).
  std::unordered_map<std::string, std::vector<std::pair<caf::response_promise, lease_request>>>
    awaiting_seed;
  settings_snapshot settings = std::make_shared<const domain::instance_settings>();
  const cxp::clock* clock = nullptr;
  gateway_metrics* metrics = nullptr;
  static inline const char* name = "pool_actor";
};

/// The pool as it addresses itself: `tick_atom` is its capacity-gauge timer.
using pool_impl = pool_actor::extend<caf::reacts_to<tick_atom>>;

using pool_self = caf::stateful_actor<pool_state, pool_impl::base>;

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

std::string circuit_key(const std::string& account, const std::string& model, route_class route) {
  return account + "|" + model + "|" + std::string{to_string(route)};
}

domain::circuit_settings circuit_settings_of(const domain::instance_settings& settings) {
  return settings.gateway().circuit;
}

domain::circuit_breaker& circuit_of(pool_self* self, const std::string& key) {
  auto it = self->state.circuits.find(key);
  if (it == self->state.circuits.end()) {
    it = self->state.circuits
           .emplace(key, domain::circuit_breaker{circuit_settings_of(*self->state.settings)})
           .first;
  }
  return it->second;
}

bool serves_model(const account_snapshot& snapshot, const std::string& model) {
  if (!snapshot.models || snapshot.models->empty()) {
    return true;
  }
  return std::any_of(snapshot.models->begin(), snapshot.models->end(), [&](const auto& entry) {
    auto slug = entry.value("slug", std::string{});
    return std::equal(slug.begin(), slug.end(), model.begin(), model.end(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  });
}

/// The quota evidence of a snapshot, with a usage-limit answer as one more exhausting window.
std::vector<domain::quota_window> evidence_of(const account_snapshot& snapshot, time_point now) {
  auto windows = snapshot.quota;
  if (snapshot.exhausted_until && *snapshot.exhausted_until > now) {
    windows.push_back({"usage_limit", 0, 100.0, snapshot.exhausted_until, now,
                       std::string{domain::main_limit}, ""});
  }
  return windows;
}

lease_reply deny(errc code, std::string message, std::optional<int64_t> resets_at = std::nullopt,
                 std::string plan_type = {}, quota_evidence quota = {}) {
  lease_reply reply;
  reply.denial = {code, std::move(message), resets_at, std::move(plan_type), std::move(quota)};
  return reply;
}

/// The pool's accounts and the key's cap windows, for the pooled quota a turn's client is shown.
quota_evidence quota_evidence_for(pool_self* self, const lease_request& request) {
  auto& st = self->state;
  if (!st.quota_members) {
    std::vector<domain::quota_member> members;
    for (const auto& [id, snapshot] : st.snapshots) {
      members.push_back(quota_member_of(snapshot));
    }
    st.quota_members =
      std::make_shared<const std::vector<domain::quota_member>>(std::move(members));
  }
  quota_evidence evidence{st.quota_members, {}};
  if (request.caps.counts_tokens()) {
    if (auto budget = st.budgets.find(request.api_key_id); budget != st.budgets.end()) {
      evidence.key_windows = budget->second.windows(request.caps, st.clock->now());
    }
  }
  return evidence;
}

/// The denial when nothing is eligible: usage_limit_reached with the earliest reset when quota
/// exhaustion excluded someone and nothing else is left, else no_eligible_account.
lease_reply denial_for(pool_self* self, const domain::selection& selected,
                       const lease_request& request, time_point now) {
  const auto& model = request.model;
  std::optional<time_point> earliest;
  std::string plan_type;
  bool all_unsupported = !selected.excluded.empty();
  for (const auto& excluded : selected.excluded) {
    all_unsupported = all_unsupported && excluded.reason == "model_unsupported";
    if (excluded.reason != "quota_exhausted") {
      continue;
    }
    const auto& snapshot = self->state.snapshots[excluded.account_id];
    auto until = domain::exhausted_until(domain::covering(evidence_of(snapshot, now), model), now);
    if (until && (!earliest || *until < *earliest)) {
      earliest = until;
      plan_type = snapshot.plan_type;
    }
  }
  if (all_unsupported) {
    return deny(errc::invalid_model, "model is not available for this pool");
  }
  if (earliest) {
    return deny(
      errc::usage_limit_reached, "every account of the pool reached its usage limit",
      std::chrono::duration_cast<std::chrono::seconds>(earliest->time_since_epoch()).count(),
      plan_type, quota_evidence_for(self, request));
  }
  return deny(errc::no_eligible_account, "no eligible account");
}

std::vector<domain::routing_candidate> candidates_of(pool_self* self, const lease_request& request,
                                                     time_point now) {
  std::vector<domain::routing_candidate> candidates;
  for (const auto& [id, handle] : self->state.accounts) {
    if (std::find(request.tried.begin(), request.tried.end(), id) != request.tried.end()) {
      continue;
    }
    auto snapshot = self->state.snapshots.find(id);
    if (snapshot == self->state.snapshots.end()) {
      continue;
    }
    domain::routing_candidate candidate;
    candidate.account_id = id;
    candidate.active = snapshot->second.routable();
    candidate.supports_model = serves_model(snapshot->second, request.model);
    candidate.circuit_closed =
      circuit_of(self, circuit_key(id, request.model, request.route)).state(now)
      != domain::circuit_state::open;
    candidate.quota = domain::covering(evidence_of(snapshot->second, now), request.model);
    if (auto it = self->state.last_success.find(id); it != self->state.last_success.end()) {
      candidate.last_success_at = it->second;
    }
    // Demoted here, or on another node (the account's shared evidence).
    candidate.demoted_until = snapshot->second.demoted_until;
    if (auto it = self->state.demoted_until.find(id);
        it != self->state.demoted_until.end()
        && (!candidate.demoted_until || it->second > *candidate.demoted_until)) {
      candidate.demoted_until = it->second;
    }
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

/// Why an account the selection excluded was left out; an inactive one says its status.
std::string skip_reason(pool_self* self, const domain::exclusion& excluded) {
  if (excluded.reason != "inactive") {
    return excluded.reason;
  }
  auto snapshot = self->state.snapshots.find(excluded.account_id);
  const auto& status =
    snapshot == self->state.snapshots.end() ? std::string{} : snapshot->second.status;
  return status == "paused" || status == "reauth_required" || status == "disabled" ? status
                                                                                   : "inactive";
}

bool is_demoted(const std::vector<domain::routing_candidate>& candidates, const std::string& id,
                time_point now) {
  auto it = std::find_if(candidates.begin(), candidates.end(),
                         [&id](const auto& candidate) { return candidate.account_id == id; });
  return it != candidates.end() && it->demoted_until && *it->demoted_until > now;
}

/// Records a selection in `decision`: the ring in rank order (circuits found open before
/// `chosen`, then `chosen`, then the ones ranked after it), the eligible ones beyond the ring,
/// then the first `excluded_count` exclusions.
void record_selection(pool_self* self, domain::routing_decision& decision,
                      const domain::selection& selected, size_t excluded_count,
                      const std::vector<domain::routing_candidate>& candidates,
                      const std::string& chosen, time_point now) {
  auto& out = decision.candidates;
  bool passed = false;
  for (const auto& id : selected.ordered) {
    if (id == chosen) {
      out.push_back({id, "chosen", ""});
      passed = true;
      continue;
    }
    out.push_back({id, "skipped",
                   !passed                           ? "circuit_open"
                   : is_demoted(candidates, id, now) ? "demoted"
                                                     : "ranked_lower"});
  }
  for (const auto& id : selected.beyond_ring) {
    out.push_back({id, "skipped", is_demoted(candidates, id, now) ? "demoted" : "outside_ring"});
  }
  for (size_t i = 0; i < excluded_count && i < selected.excluded.size(); ++i) {
    out.push_back(
      {selected.excluded[i].account_id, "skipped", skip_reason(self, selected.excluded[i])});
  }
}

/// Records a pinned session's decision: the pinned account as `outcome` (`reason`), every other
/// candidate skipped because the session is pinned elsewhere.
void record_pinned(domain::routing_decision& decision,
                   const std::vector<domain::routing_candidate>& candidates,
                   const std::string& pinned, std::string outcome, std::string reason) {
  decision.candidates.push_back({pinned, std::move(outcome), std::move(reason)});
  for (const auto& candidate : candidates) {
    if (candidate.account_id != pinned) {
      decision.candidates.push_back({candidate.account_id, "skipped", "pinned_elsewhere"});
    }
  }
}

/// A denial carrying the decision that led to it.
lease_reply with_routing(lease_reply reply, domain::routing_decision routing) {
  if (!reply.grant) {
    reply.denial.routing = std::move(routing);
  }
  return reply;
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

/// The key's caps on a new request: a denial when one is reached. The first request of a key
/// with token caps waits until its usage so far is read.
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

/// Pins the session here and, so a request of the same conversation on another node stays on
/// the account, in `http_session_pins` (written when the pin is new or moved, and again once
/// half its TTL passed).
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

/// A session this node has not pinned may be pinned by another node: looks it up once, then
/// routes the request with that account as its pin.
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
    },
    [self](const pool_view_request& request) {
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
