#include "actors/jobs/queue_keeper.hpp"

#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/log.hpp"
#include "domain/jobs/job_kind.hpp"

namespace cxp::actors {

namespace {

constexpr auto store_timeout = std::chrono::seconds{30};

struct keeper_state {
  std::optional<queue_keeper_config> config;
  // Not the first member: CAF builds a state from the actor's pointer when it can, and C++20
  // would let it try through a typed handle's constructor.
  job_store_actor store;
  bool leading = false;
  static inline const char* name = "queue_keeper";
};

using keeper_impl = queue_keeper_actor::extend<caf::reacts_to<tick_atom>>;
using keeper_self = caf::stateful_actor<keeper_state, keeper_impl::base>;

void rescue(keeper_self* self) {
  auto& state = self->state;
  auto& config = *state.config;
  self->request(state.store, store_timeout, rescue_atom::value)
    .then(
      [&config](const job_upkeep& upkeep) {
        const auto rescued = upkeep.rescued.requeued + upkeep.rescued.failed;
        if (rescued > 0) {
          config.metrics.rescued.add({}).increment(static_cast<double>(rescued));
          log::warn("jobs", "rescued claims whose worker stopped answering",
                    {{"requeued", upkeep.rescued.requeued}, {"failed", upkeep.rescued.failed}});
        }
      },
      [](caf::error& error) {
        log::warn("jobs", "could not rescue timed-out jobs", {{"error", context_of(error)}});
      });
}

void keep(keeper_self* self) {
  auto& state = self->state;
  auto& config = *state.config;
  if (state.leading) {
    rescue(self);
  }
  self->request(state.store, store_timeout, stats_atom::value)
    .then(
      [&config](const job_queue_stats& stats) {
        publish_queue_stats(config.metrics, stats, config.clock.now());
      },
      [](caf::error& error) {
        log::debug("jobs", "could not read the queue's gauges", {{"error", context_of(error)}});
      });
  self->delayed_send(self, config.interval, tick_atom::value);
}

keeper_impl::behavior_type keeper_behavior(keeper_self* self, job_store_actor store,
                                           queue_keeper_config config) {
  self->state.store = std::move(store);
  self->state.config.emplace(std::move(config));
  keep(self);
  return {
    [self](leader_atom, bool leading, int64_t) {
      const bool became_leader = leading && !self->state.leading;
      self->state.leading = leading;
      if (became_leader) {
        // A new leader rescues at once: claims that timed out while nobody led are waiting.
        rescue(self);
      }
    },
    [self](tick_atom) { keep(self); },
  };
}

} // namespace

void publish_queue_stats(job_metrics& metrics, const job_queue_stats& stats, time_point now) {
  for (const auto kind : domain::all_job_kinds) {
    const metrics::labels labels{{"kind", std::string{domain::to_string(kind)}}};
    double queued = 0;
    double running = 0;
    for (const auto& row : stats.depth) {
      if (row.kind == domain::to_string(kind)) {
        queued = static_cast<double>(row.queued);
        running = static_cast<double>(row.running);
      }
    }
    metrics.queue_depth.add(labels).set(queued);
    metrics.running.add(labels).set(running);
  }
  for (const auto& run : stats.runs) {
    const auto at = run.last_success_at ? parse_iso8601(*run.last_success_at) : std::nullopt;
    if (at && domain::parse_job_kind(run.kind)) {
      const auto age = std::chrono::duration<double>(now - *at).count();
      metrics.last_success_age.add({{"kind", run.kind}}).set(age > 0 ? age : 0);
    }
  }
}

queue_keeper_actor spawn_queue_keeper(caf::actor_system& system, job_store_actor store,
                                      const queue_keeper_config& config) {
  return system.spawn(keeper_behavior, std::move(store), config);
}

} // namespace cxp::actors
