#include "actors/jobs/scheduler_leader.hpp"

#include <algorithm>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/log.hpp"

namespace cxp::actors {

namespace {

constexpr auto store_timeout = std::chrono::seconds{15};
/// A standby asks this long after the lease it saw expires (the expiry itself still counts as
/// held).
constexpr auto past_expiry = std::chrono::milliseconds{5};
constexpr auto min_attempt_interval = std::chrono::milliseconds{10};

using std::chrono::duration_cast;
using std::chrono::milliseconds;

} // namespace

bool leadership_state::on_lease(const persistence::scheduler_lease_row& lease, time_point now) {
  const bool was_leading = leading_;
  const auto was_epoch = epoch_;
  expires_ = parse_iso8601(lease.expires_at);
  leading_ = lease.holder_node_id == node_id_ && expires_ && *expires_ > now;
  epoch_ = leading_ ? lease.epoch : 0;
  return leading_ != was_leading || epoch_ != was_epoch;
}

bool leadership_state::on_failure(time_point now) {
  if (leading_ && (!expires_ || *expires_ <= now)) {
    return step_down();
  }
  return false;
}

bool leadership_state::step_down() {
  const bool was_leading = leading_;
  leading_ = false;
  epoch_ = 0;
  return was_leading;
}

milliseconds leadership_state::next_attempt(time_point now) const {
  const auto renewal = std::max(ttl_ / 3, min_attempt_interval);
  if (leading_ || !expires_ || *expires_ <= now) {
    return renewal;
  }
  const auto until_free = duration_cast<milliseconds>(*expires_ - now) + past_expiry;
  return std::clamp(until_free, min_attempt_interval, renewal);
}

namespace {

struct leader_state {
  std::optional<scheduler_leader_config> config;
  // Not the first member: CAF builds a state from the actor's pointer when it can, and C++20
  // would let it try through a typed handle's constructor.
  job_store_actor store;
  std::optional<leadership_state> lease;
  std::vector<leadership_subscriber_actor> subscribers;
  bool asking = false;
  bool draining = false;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;
  static inline const char* name = "scheduler_leader";
};

/// The leader as it addresses itself: `tick_atom` is its lease timer.
using leader_impl = scheduler_leader_actor::extend<caf::reacts_to<tick_atom>>;
using leader_self = caf::stateful_actor<leader_state, leader_impl::base>;

void announce(leader_self* self) {
  const auto& lease = *self->state.lease;
  self->state.config->leader.set(lease.leading() ? 1 : 0);
  log::info("jobs",
            lease.leading() ? "this node leads the scheduler"
                            : "this node no longer leads the scheduler",
            {{"epoch", lease.epoch()}});
  for (const auto& subscriber : self->state.subscribers) {
    self->send(subscriber, leader_atom::value, lease.leading(), lease.epoch());
  }
}

void finish_drain(leader_self* self) {
  auto& state = self->state;
  const auto fence = persistence::lease_fence{state.config->node_id, state.lease->epoch()};
  auto settle = [self] {
    if (self->state.lease->step_down()) {
      announce(self);
    }
    for (auto& waiter : self->state.drain_waiters) {
      waiter.deliver(true);
    }
    self->state.drain_waiters.clear();
  };
  if (!state.lease->leading()) {
    settle();
    return;
  }
  self->request(state.store, store_timeout, release_atom::value, fence)
    .then([settle](bool) { settle(); },
          [settle](caf::error& error) {
            log::warn("jobs", "could not release the scheduler lease; it expires on its own",
                      {{"error", context_of(error)}});
            settle();
          });
}

void ask_for_lease(leader_self* self) {
  auto& state = self->state;
  if (state.draining || state.asking) {
    return;
  }
  state.asking = true;
  auto after = [self](bool changed) {
    auto& st = self->state;
    st.asking = false;
    if (st.draining) {
      // A renewal that raced the drain: release what it may have renewed.
      finish_drain(self);
      return;
    }
    if (changed) {
      announce(self);
    }
    self->delayed_send(self, st.lease->next_attempt(st.config->clock.now()), tick_atom::value);
  };
  self
    ->request(state.store, store_timeout, lease_atom::value,
              scheduler_lease_request{state.config->node_id, state.config->ttl})
    .then(
      [self, after](persistence::scheduler_lease_row& row) {
        after(self->state.lease->on_lease(row, self->state.config->clock.now()));
      },
      [self, after](caf::error& error) {
        log::warn("jobs", "the scheduler lease could not be renewed",
                  {{"error", context_of(error)}});
        after(self->state.lease->on_failure(self->state.config->clock.now()));
      });
}

leader_impl::behavior_type leader_behavior(leader_self* self, job_store_actor store,
                                           scheduler_leader_config config) {
  self->state.store = std::move(store);
  self->state.lease.emplace(config.node_id, config.ttl);
  self->state.config.emplace(std::move(config));
  self->state.config->leader.set(0);
  // A subscriber that died is forgotten.
  self->set_down_handler([self](caf::down_msg& down) {
    auto& subscribers = self->state.subscribers;
    subscribers.erase(std::remove_if(subscribers.begin(), subscribers.end(),
                                     [&down](const leadership_subscriber_actor& subscriber) {
                                       return subscriber.address() == down.source;
                                     }),
                      subscribers.end());
  });
  ask_for_lease(self);
  return {
    [self](subscribe_atom, leadership_subscriber_actor& subscriber) {
      self->monitor(subscriber);
      self->send(subscriber, leader_atom::value, self->state.lease->leading(),
                 self->state.lease->epoch());
      self->state.subscribers.push_back(std::move(subscriber));
    },
    [self](get_atom) { return self->state.lease->leading(); },
    [self](drain_atom) -> caf::result<bool> {
      auto promise = self->make_response_promise<bool>();
      self->state.drain_waiters.push_back(promise);
      self->state.draining = true;
      if (!self->state.asking) {
        finish_drain(self);
      }
      return promise;
    },
    [self](tick_atom) { ask_for_lease(self); },
  };
}

} // namespace

scheduler_leader_actor spawn_scheduler_leader(caf::actor_system& system, job_store_actor store,
                                              const scheduler_leader_config& config) {
  return system.spawn(leader_behavior, std::move(store), config);
}

} // namespace cxp::actors
