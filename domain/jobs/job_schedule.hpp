#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "domain/jobs/job_kind.hpp"
#include "persistence/jobs/job_repository.hpp"

namespace cxp::domain {

/// Boot-time overrides of the kinds' own policies (CODEX_POOLER_JOB_EVERY_MS and
/// CODEX_POOLER_JOB_TIMEOUT_MS), for tests and demos that cannot wait minutes.
struct job_tuning {
  std::optional<std::chrono::milliseconds> every;
  std::optional<std::chrono::milliseconds> timeout;
};

/// How often `kind` is scheduled, and how long a claim of it may run before it is presumed dead.
std::chrono::milliseconds every_of(job_kind kind, const job_tuning& tuning);
std::chrono::milliseconds timeout_of(job_kind kind, const job_tuning& tuning);

/// The start of the schedule slot holding `now`: slots of `every` counted from the Unix epoch,
/// so every scheduler in the cluster cuts time the same way.
time_point slot_start(time_point now, std::chrono::milliseconds every);

/// The unique key of `kind`'s run in the slot starting at `slot`; a slot runs once.
std::string scheduled_key(job_kind kind, time_point slot);

/// The unique key of a run asked for by an operator: one of each (kind, pool) incomplete at a time.
std::string manual_key(job_kind kind, const std::optional<std::string>& pool_id);

/// The scheduled run of `kind` in the slot holding `now`, enqueued by `node_id`.
persistence::new_job scheduled_job(job_kind kind, time_point now, const std::string& node_id,
                                   const job_tuning& tuning);

/// A run of `kind` now, asked for by an operator (`enqueued_by`: who).
persistence::new_job manual_job(job_kind kind, const std::optional<std::string>& pool_id,
                                time_point now, std::string enqueued_by, const job_tuning& tuning);

/// When a failed attempt `attempt` (1-based) of a job allowed `max_attempts` runs again, or
/// nullopt when it was the last.
std::optional<time_point> retry_at(job_kind kind, int32_t attempt, int32_t max_attempts,
                                   time_point now);

} // namespace cxp::domain
