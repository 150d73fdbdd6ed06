#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// One row of `jobs`. Times are fixed-width ISO-8601 text; `outcome` is the JSON a run recorded
/// (counts and names, never a secret).
struct job_row {
  std::string id;
  std::string kind;
  std::string status; ///< queued | running | succeeded | failed | cancelled
  std::optional<std::string> pool_id;
  std::optional<std::string> unique_key;
  std::string origin; ///< schedule | manual
  std::optional<std::string> enqueued_by;
  std::string run_at;
  int32_t attempts = 0;
  int32_t max_attempts = 1;
  int64_t timeout_ms = 0;
  std::optional<std::string> locked_by;
  std::optional<std::string> locked_until;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::optional<std::string> last_error;
  std::optional<std::string> outcome;
  std::string created_at;
  std::string updated_at;
};

/// A job to enqueue. `unique_key` keeps a second copy out of the queue while one is incomplete.
struct new_job {
  std::string kind;
  std::optional<std::string> pool_id;
  std::string unique_key;
  std::string origin = "manual";
  std::optional<std::string> enqueued_by;
  time_point run_at;
  int32_t max_attempts = 1;
  std::chrono::milliseconds timeout{0};
};

/// What `enqueue` did: the job with that key that is now queued or running, and whether this
/// call created it.
struct enqueue_result {
  job_row job;
  bool created = false;
};

/// How a scheduled enqueue went.
enum class scheduled_enqueue {
  created,    ///< queued
  duplicate,  ///< that slot has a job already (any status), or an earlier run is still queued
  not_leader, ///< the fence failed: this node no longer holds the scheduler lease in that epoch
};

/// The scheduler lease a scheduled enqueue must still hold (see `scheduler_lease_repository`).
struct lease_fence {
  std::string node_id;
  int64_t epoch = 0;
};

/// A job a worker claimed: its row, and the token that completes or fails it. The token is
/// fresh per claim, so a worker whose claim timed out and was taken by another cannot record
/// an outcome over the new claim's.
struct claimed_job {
  job_row job;
  std::string claim_token;
};

/// How recording a failure went.
enum class failure_recorded {
  retried, ///< queued again for `retry_at`
  failed,  ///< out of attempts: failed for good
  lost,    ///< the claim was no longer this worker's (rescued after its timeout)
};

/// What one rescue pass did with claims older than their timeout.
struct rescue_result {
  int64_t requeued = 0; ///< queued again (attempts left)
  int64_t failed = 0;   ///< failed for good (their last attempt died with its worker)
};

struct job_filter {
  std::optional<std::string> kind;
  std::optional<std::string> status;
  std::optional<std::string> pool_id;
  std::optional<std::vector<std::string>> visible_pool_ids; ///< instance_admin scope; nullopt = all
  std::optional<std::string> before_cursor; ///< "<created_at>|<id>" of the last row seen
  int limit = 50;
};

/// Jobs of one kind waiting (due or not) and running.
struct queue_depth_row {
  std::string kind;
  int64_t queued = 0;
  int64_t running = 0;
};

/// When each kind last succeeded and failed (kept apart from `jobs`, which is pruned).
struct job_kind_runs_row {
  std::string kind;
  std::optional<std::string> last_success_at;
  std::optional<std::string> last_failure_at;
};

/// All SQL on `jobs` and `job_kind_runs`: the durable queue. Claims lock rows with
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never wait on each other's rows; SQLite
/// serialises writers, and each claim is one UPDATE inside its transaction, so the write lock
/// is taken by its first statement (no read lock to upgrade). Times are the caller's clock.
/// Blocking: workers, db workers, the CLI and tests only.
class job_repository {
public:
  explicit job_repository(database& db) : db_(db) {}

  /// Queues `job` unless a job with its unique key is queued or running, which is answered
  /// instead (`created` false).
  caf::expected<enqueue_result> enqueue(const new_job& job, time_point now);

  /// `enqueue` inside a caller's transaction (with its audit event); nullopt in the rare case
  /// that the incomplete job holding the key finished between its two statements.
  static std::optional<enqueue_result> enqueue_in(unit_of_work& work, const new_job& job,
                                                  time_point now);

  /// Queues one scheduled run when `fence` still holds the scheduler lease at `now`, no job
  /// (of any status) has `job.unique_key` (the schedule slot) and no earlier run of the kind
  /// is still waiting in the queue (a backlog is not multiplied while workers are away).
  caf::expected<scheduled_enqueue> enqueue_scheduled(const new_job& job, const lease_fence& fence,
                                                     time_point now);

  /// Claims up to `limit` due jobs (oldest `run_at` first) for `worker_id`: each becomes
  /// `running`, its attempt counted, locked until `now` plus its own timeout.
  caf::expected<std::vector<claimed_job>> claim(const std::string& worker_id, int limit,
                                                time_point now);

  /// Records success with `outcome_json`; false when the claim was lost.
  caf::expected<bool> complete(const claimed_job& claim, const std::string& outcome_json,
                               time_point now);

  /// Records a failed attempt: queued again for `retry_at` when given, otherwise failed for
  /// good.
  caf::expected<failure_recorded> fail(const claimed_job& claim, const std::string& error,
                                       time_point now, std::optional<time_point> retry_at);

  /// Claims whose `locked_until` passed (their worker died or hung) go back to the queue, due
  /// now, or fail for good when that was their last attempt.
  caf::expected<rescue_result> rescue_expired(time_point now);

  /// Deletes finished jobs (succeeded, failed, cancelled) that finished before `before`, at most
  /// `batch` per statement so no delete holds its locks for long. Answers how many.
  caf::expected<int64_t> prune_finished(time_point before, int batch = 1000);

  caf::expected<std::optional<job_row>> get(const std::string& id);

  /// Newest first (`created_at`, then `id`), keyset-paginated.
  caf::expected<std::vector<job_row>> list(const job_filter& filter);

  /// Queued and running jobs per kind (kinds with neither are absent).
  caf::expected<std::vector<queue_depth_row>> queue_depth();

  caf::expected<std::vector<job_kind_runs_row>> kind_runs();

private:
  database& db_;
};

} // namespace cxp::persistence
