#pragma once

#include "actors/jobs/job_handler.hpp"

namespace cxp::actors::jobs {

/// `pricing_import`: downloads the feed at `catalog.openai_pricing_url` and stores it as a new
/// snapshot when its version is new. A feed that fails validation changes nothing and fails the
/// run with the reason.
job_outcome import_pricing(const job_services& services, const job_run& run);

/// `usage_rollup`: rebuilds the hourly rollups from the request logs: the hour before the
/// newest rolled up onwards (late rows land there), or from the oldest log on the first run, at
/// most a week of hours per run, one transaction per hour.
job_outcome roll_up_usage(const job_services& services, const job_run& run);

} // namespace cxp::actors::jobs
