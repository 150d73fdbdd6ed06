#include "actors/jobs/job_scheduler.hpp"

#include <map>
#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/jobs/kind_scheduler.hpp"
#include "actors/jobs/queue_keeper.hpp"
#include "actors/jobs/scheduler_leader.hpp"
#include "common/log.hpp"

namespace cxp::actors {

namespace {

struct group_state {
  std::optional<job_scheduler_config> config;
  // Not the first member: CAF builds a state from the actor's pointer when it can, and C++20
  // would let it try through a typed handle's constructor.
  job_store_actor store;
  scheduler_leader_actor leader;
  std::map<domain::job_kind, kind_scheduler_actor> kinds;
  queue_keeper_actor keeper;
  static inline const char* name = "job_scheduler";
};

using group_self = caf::stateful_actor<group_state, job_scheduler_actor::base>;

/// Spawns a child the group watches and subscribes it to the leader.
template <class Handle>
Handle adopt(group_self* self, Handle child) {
  self->monitor(child);
  self->send(self->state.leader, subscribe_atom::value,
             caf::actor_cast<leadership_subscriber_actor>(child));
  return child;
}

kind_scheduler_actor spawn_kind(group_self* self, domain::job_kind kind) {
  const auto& config = *self->state.config;
  return adopt(self, spawn_kind_scheduler(self->system(), self->state.store,
                                          {kind, config.node_id, config.tuning, config.clock}));
}

queue_keeper_actor spawn_keeper(group_self* self) {
  const auto& config = *self->state.config;
  return adopt(self, spawn_queue_keeper(self->system(), self->state.store,
                                        {config.keeper_interval, config.clock, config.metrics}));
}

scheduler_leader_actor spawn_leader(group_self* self) {
  const auto& config = *self->state.config;
  auto leader = spawn_scheduler_leader(
    self->system(), self->state.store,
    {config.node_id, config.lease_ttl, config.clock, config.metrics.scheduler_leader});
  self->monitor(leader);
  return leader;
}

/// Respawns the child that `down` reports, when it is one of the group's; false otherwise.
bool restart(group_self* self, const caf::down_msg& down) {
  auto& state = self->state;
  if (state.leader.address() == down.source) {
    state.leader = spawn_leader(self);
    // The old leader's word no longer holds: everyone is a standby until the new one speaks.
    auto resubscribe = [self](const auto& child) {
      self->send(child, leader_atom::value, false, int64_t{0});
      self->send(self->state.leader, subscribe_atom::value,
                 caf::actor_cast<leadership_subscriber_actor>(child));
    };
    for (const auto& [kind, child] : state.kinds) {
      resubscribe(child);
    }
    resubscribe(state.keeper);
    return true;
  }
  if (state.keeper.address() == down.source) {
    state.keeper = spawn_keeper(self);
    return true;
  }
  for (auto& [kind, child] : state.kinds) {
    if (child.address() == down.source) {
      child = spawn_kind(self, kind);
      return true;
    }
  }
  return false;
}

job_scheduler_actor::behavior_type group_behavior(group_self* self, job_store_actor store,
                                                  job_scheduler_config config) {
  auto& state = self->state;
  state.store = std::move(store);
  state.config.emplace(std::move(config));
  state.leader = spawn_leader(self);
  for (const auto kind : domain::all_job_kinds) {
    state.kinds.emplace(kind, spawn_kind(self, kind));
  }
  state.keeper = spawn_keeper(self);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    self->send_exit(st.leader, msg.reason);
    for (const auto& [kind, child] : st.kinds) {
      self->send_exit(child, msg.reason);
    }
    self->send_exit(st.keeper, msg.reason);
    self->quit(std::move(msg.reason));
  });
  self->set_down_handler([self](caf::down_msg& down) {
    if (down.reason == caf::exit_reason::user_shutdown || down.reason == caf::exit_reason::normal) {
      return;
    }
    if (restart(self, down)) {
      log::error("jobs", "a scheduler actor failed; restarting it",
                 {{"reason", caf::to_string(down.reason)}});
      self->state.config->restarts.increment();
    }
  });
  return {
    [self](get_atom) { return self->delegate(self->state.leader, get_atom::value); },
    [self](drain_atom) { return self->delegate(self->state.leader, drain_atom::value); },
  };
}

} // namespace

job_scheduler_actor spawn_job_scheduler(caf::actor_system& system, job_store_actor store,
                                        const job_scheduler_config& config) {
  return system.spawn(group_behavior, std::move(store), config);
}

} // namespace cxp::actors
