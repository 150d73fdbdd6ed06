#include "actors/jobs/job_store.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace cxp::actors {

namespace {

constexpr auto db_timeout = std::chrono::seconds{15};

/// Runs `work` on the db pool and answers its result (or error) through a promise.
template <class Answer, class Self, class Work>
caf::typed_response_promise<Answer> answer_from_db(Self* self, const db_pool_actor& db, Work work) {
  auto promise = self->template make_response_promise<Answer>();
  ask_db(self, db, db_timeout, std::move(work))
    .then([promise](caf::expected<Answer>& result) mutable {
      if (result) {
        promise.deliver(std::move(*result));
      } else {
        promise.deliver(std::move(result.error()));
      }
    });
  return promise;
}

} // namespace

job_store_actor spawn_job_store(caf::actor_system& system, db_pool_actor db_pool,
                                const cxp::clock& clock) {
  return system.spawn([db = std::move(db_pool),
                       &clock](job_store_actor::pointer self) -> job_store_actor::behavior_type {
    return {
      [self, db, &clock](lease_atom, scheduler_lease_request& request) {
        return answer_from_db<persistence::scheduler_lease_row>(
          self, db, [request, &clock](persistence::database& database) {
            return persistence::scheduler_lease_repository{database}.acquire(
              request.node_id, clock.now(), request.ttl);
          });
      },
      [self, db, &clock](release_atom, persistence::lease_fence& fence) {
        return answer_from_db<bool>(self, db, [fence, &clock](persistence::database& database) {
          return persistence::scheduler_lease_repository{database}.release(
            fence.node_id, fence.epoch, clock.now());
        });
      },
      [self, db, &clock](persistence::new_job& job, persistence::lease_fence& fence) {
        return answer_from_db<persistence::scheduled_enqueue>(
          self, db, [job, fence, &clock](persistence::database& database) {
            return persistence::job_repository{database}.enqueue_scheduled(job, fence, clock.now());
          });
      },
      [self, db, &clock](rescue_atom) {
        return answer_from_db<job_upkeep>(
          self, db, [&clock](persistence::database& database) -> caf::expected<job_upkeep> {
            persistence::job_repository jobs{database};
            const auto now = clock.now();
            auto rescued = jobs.rescue_expired(now);
            if (!rescued) {
              return rescued.error();
            }
            auto pruned = jobs.prune_finished(now - finished_job_retention);
            if (!pruned) {
              return pruned.error();
            }
            return job_upkeep{*rescued, *pruned};
          });
      },
      [self, db](stats_atom) {
        return answer_from_db<job_queue_stats>(
          self, db, [](persistence::database& database) -> caf::expected<job_queue_stats> {
            persistence::job_repository jobs{database};
            auto depth = jobs.queue_depth();
            if (!depth) {
              return depth.error();
            }
            auto runs = jobs.kind_runs();
            if (!runs) {
              return runs.error();
            }
            return job_queue_stats{std::move(*depth), std::move(*runs)};
          });
      },
    };
  });
}

} // namespace cxp::actors
