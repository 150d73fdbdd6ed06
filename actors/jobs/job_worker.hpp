#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/jobs/job_handler.hpp"
#include "actors/jobs/job_metrics.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"
#include "persistence/db/database.hpp"
#include "persistence/jobs/job_repository.hpp"

namespace cxp::actors {

/// Claims one due job at a time from the durable queue and runs it to its end on the calling
/// thread: the handler's outcome is recorded as the job's, an error fails the attempt (retried
/// after the kind's backoff while attempts remain), a kind without a handler fails for good.
/// Metrics: `codex_pooler_jobs_total{kind, outcome}` and the run's duration.
class job_runner {
public:
  /// Everything must outlive the runner; `worker_id` names the claims (`locked_by`).
  job_runner(persistence::database& db, std::shared_ptr<const job_handlers> handlers,
             const cxp::clock& clock, job_metrics& metrics, std::string worker_id);

  /// Claims the next due job and runs it; false when none was due or the claim failed.
  bool run_next();

  const std::string& worker_id() const { return worker_id_; }

private:
  void run(const persistence::claimed_job& claim);

  persistence::database& db_;
  std::shared_ptr<const job_handlers> handlers_;
  const cxp::clock& clock_;
  job_metrics& metrics_;
  std::string worker_id_;
};

/// A worker's interface: `drain_atom` → stops claiming; answered once its current run (if any)
/// has ended, since a worker handles one message at a time.
using job_worker_actor = caf::typed_actor<caf::replies_to<drain_atom>::with<bool>>;

/// A detached worker (its own thread: handlers block) that runs `runner` until drained: it
/// claims again at once after a run, and after `idle_poll` when nothing was due.
job_worker_actor spawn_job_worker(caf::actor_system& system, std::shared_ptr<job_runner> runner,
                                  std::chrono::milliseconds idle_poll);

} // namespace cxp::actors
