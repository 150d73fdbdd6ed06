#pragma once

#include "actors/jobs/job_handler.hpp"

namespace cxp::actors::jobs {

/// `token_refresh`: asks each owner to refresh the tokens that expire within
/// `accounts.token_refresh_ahead`, skipping accounts whose refresh failed transiently within
/// `accounts.refresh_failure_cooldown`. The owner refreshes while the old token still serves.
job_outcome sweep_token_refresh(const job_services& services, const job_run& run);

/// `quota_reconciliation`: polls `/wham/usage` for each account whose quota evidence is older
/// than `accounts.quota_evidence_max_age` and stores its windows. It only observes: a rejected
/// token is counted, and left to the request path and the refresh sweep.
job_outcome reconcile_quota(const job_services& services, const job_run& run);

} // namespace cxp::actors::jobs
