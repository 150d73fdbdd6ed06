#pragma once

#include "actors/jobs/job_handler.hpp"

namespace cxp::actors::jobs {

/// `retention`: deletes request logs, their attempts and audit events older than the
/// `retention.*` settings (0 days keeps them), in batches so no statement holds a long lock.
job_outcome apply_retention(const job_services& services, const job_run& run);

/// `runtime_cleanup`: deletes expired session leases, HTTP session pins and refresh claims, and
/// operator sessions, unaccepted invites and refresh gates a week past their end.
job_outcome clean_runtime(const job_services& services, const job_run& run);

} // namespace cxp::actors::jobs
