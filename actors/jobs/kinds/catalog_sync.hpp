#pragma once

#include "actors/jobs/job_handler.hpp"

namespace cxp::actors::jobs {

/// `catalog_sync`: for each active pool (or the run's pool), fetches the model catalog of each
/// of its active accounts, stores it per account, and records the pool's catalog: models no
/// account serves turn stale, and retire after `catalog.model_retire_hours`. An account whose
/// catalog cannot be fetched keeps its stored one, and counts as serving it.
job_outcome sync_catalogs(const job_services& services, const job_run& run);

} // namespace cxp::actors::jobs
