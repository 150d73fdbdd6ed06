#include "actors/jobs/kind_scheduler.hpp"

#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/log.hpp"

namespace cxp::actors {

namespace {

constexpr auto store_timeout = std::chrono::seconds{15};
/// Timers may fire a hair early against the wall clock; this keeps a tick inside its slot.
constexpr auto slot_slack = std::chrono::milliseconds{1};

struct kind_state {
  std::optional<kind_scheduler_config> config;
  // Not the first member: CAF builds a state from the actor's pointer when it can, and C++20
  // would let it try through a typed handle's constructor.
  job_store_actor store;
  bool leading = false;
  int64_t epoch = 0;
  /// Bumped by every leadership change: a timer set under an older one is ignored.
  uint64_t generation = 0;
  static inline const char* name = "kind_scheduler";
};

using kind_impl = kind_scheduler_actor::extend<caf::reacts_to<tick_atom, uint64_t>>;
using kind_self = caf::stateful_actor<kind_state, kind_impl::base>;

void enqueue_slot(kind_self* self) {
  auto& state = self->state;
  const auto& config = *state.config;
  const auto now = config.clock.now();
  auto job = domain::scheduled_job(config.kind, now, config.node_id, config.tuning);
  const auto key = job.unique_key;
  self
    ->request(state.store, store_timeout, std::move(job),
              persistence::lease_fence{config.node_id, state.epoch})
    .then(
      [key](persistence::scheduled_enqueue result) {
        if (result == persistence::scheduled_enqueue::created) {
          log::debug("jobs", "scheduled a job", {{"key", key}});
        }
      },
      [key](caf::error& error) {
        log::warn("jobs", "could not enqueue a scheduled job",
                  {{"key", key}, {"error", context_of(error)}});
      });
  self->delayed_send(self, until_next_slot(now, domain::every_of(config.kind, config.tuning)),
                     tick_atom::value, state.generation);
}

kind_impl::behavior_type kind_behavior(kind_self* self, job_store_actor store,
                                       kind_scheduler_config config) {
  self->state.store = std::move(store);
  self->state.config.emplace(std::move(config));
  return {
    [self](leader_atom, bool leading, int64_t epoch) {
      auto& state = self->state;
      if (leading == state.leading && epoch == state.epoch) {
        return;
      }
      state.leading = leading;
      state.epoch = epoch;
      ++state.generation;
      if (leading) {
        enqueue_slot(self);
      }
    },
    [self](tick_atom, uint64_t generation) {
      if (generation == self->state.generation && self->state.leading) {
        enqueue_slot(self);
      }
    },
  };
}

} // namespace

std::chrono::milliseconds until_next_slot(time_point now, std::chrono::milliseconds every) {
  const auto next = domain::slot_start(now, every) + every;
  return std::chrono::duration_cast<std::chrono::milliseconds>(next - now) + slot_slack;
}

kind_scheduler_actor spawn_kind_scheduler(caf::actor_system& system, job_store_actor store,
                                          const kind_scheduler_config& config) {
  return system.spawn(kind_behavior, std::move(store), config);
}

} // namespace cxp::actors
