#include "domain/jobs/job_schedule.hpp"

namespace cxp::domain {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

milliseconds every_of(job_kind kind, const job_tuning& tuning) {
  return tuning.every.value_or(duration_cast<milliseconds>(policy_of(kind).every));
}

milliseconds timeout_of(job_kind kind, const job_tuning& tuning) {
  return tuning.timeout.value_or(duration_cast<milliseconds>(policy_of(kind).timeout));
}

time_point slot_start(time_point now, milliseconds every) {
  const auto since_epoch = duration_cast<milliseconds>(now.time_since_epoch());
  const auto slots = since_epoch.count() / every.count();
  return time_point{duration_cast<time_point::duration>(milliseconds{slots * every.count()})};
}

std::string scheduled_key(job_kind kind, time_point slot) {
  return std::string{to_string(kind)} + "@" + to_iso8601(slot);
}

std::string manual_key(job_kind kind, const std::optional<std::string>& pool_id) {
  auto key = "manual:" + std::string{to_string(kind)};
  if (pool_id) {
    key += ":" + *pool_id;
  }
  return key;
}

persistence::new_job scheduled_job(job_kind kind, time_point now, const std::string& node_id,
                                   const job_tuning& tuning) {
  persistence::new_job job;
  job.kind = std::string{to_string(kind)};
  job.unique_key = scheduled_key(kind, slot_start(now, every_of(kind, tuning)));
  job.origin = "schedule";
  job.enqueued_by = node_id;
  job.run_at = now;
  job.max_attempts = policy_of(kind).max_attempts;
  job.timeout = timeout_of(kind, tuning);
  return job;
}

persistence::new_job manual_job(job_kind kind, const std::optional<std::string>& pool_id,
                                time_point now, std::string enqueued_by, const job_tuning& tuning) {
  persistence::new_job job;
  job.kind = std::string{to_string(kind)};
  job.pool_id = pool_id;
  job.unique_key = manual_key(kind, pool_id);
  job.origin = "manual";
  job.enqueued_by = std::move(enqueued_by);
  job.run_at = now;
  job.max_attempts = policy_of(kind).max_attempts;
  job.timeout = timeout_of(kind, tuning);
  return job;
}

std::optional<time_point> retry_at(job_kind kind, int32_t attempt, int32_t max_attempts,
                                   time_point now) {
  if (attempt >= max_attempts) {
    return std::nullopt;
  }
  return now + retry_delay(kind, attempt);
}

} // namespace cxp::domain
