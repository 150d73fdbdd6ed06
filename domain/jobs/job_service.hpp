#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "domain/jobs/job_schedule.hpp"
#include "persistence/jobs/job_repository.hpp"

namespace cxp::domain {

/// A job as the admin API and the CLI show it: kind, state, attempts, timings, the last error
/// and the recorded outcome (parsed JSON, or null).
nlohmann::json to_json(const persistence::job_row& job);

struct job_query {
  std::optional<std::string> kind;
  std::optional<std::string> state; ///< queued | running | succeeded | failed | cancelled
  page_request page;
};

struct job_page {
  std::vector<persistence::job_row> items;
  std::optional<std::string> next_cursor;
};

/// A run asked for now; `pool_id` only for the kinds that run per pool.
struct job_run_request {
  std::string kind;
  std::optional<std::string> pool_id;
};

/// The run that is now queued or running, and whether this request queued it (false: one of
/// the same kind and pool was already incomplete, and that one is answered).
struct job_run_result {
  persistence::job_row job;
  bool created = false;
};

/// The jobs queue over the admin API and the CLI. Listing is open to operators (instance admins
/// see only the runs aimed at their pools); running a job now is for instance owners (and the
/// CLI), and writes one audit event ("job.run") in the transaction that queues it. The run is
/// done by a worker node: this only queues it, due at once. Synchronous: blocks on the database.
class job_service {
public:
  explicit job_service(service_context& context, job_tuning tuning = {})
      : context_(context),
        tuning_(tuning) {}

  /// Newest first. An unknown `kind` or `state` is a validation error naming the field.
  caf::expected<job_page> list(const principal& who, const job_query& query);

  /// Queues `request.kind` now. An unknown kind, or a `pool_id` for a kind that does not run per
  /// pool, is a validation error (422 `validation_failed` naming the field); a pool that does
  /// not exist is `not_found`.
  caf::expected<job_run_result> run(const principal& who, const job_run_request& request);

private:
  service_context& context_;
  job_tuning tuning_;
};

} // namespace cxp::domain
