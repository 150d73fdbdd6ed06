#include "actors/jobs/job_handler.hpp"
#include "actors/jobs/kinds/account_upkeep.hpp"
#include "actors/jobs/kinds/accounting.hpp"
#include "actors/jobs/kinds/catalog_sync.hpp"
#include "actors/jobs/kinds/housekeeping.hpp"

namespace cxp::actors {

job_handlers make_job_handlers(const job_services& services) {
  using domain::job_kind;
  auto bind = [&services](job_outcome (*run)(const job_services&, const job_run&)) -> job_handler {
    return [&services, run](const job_run& job) {
      return run(services, job);
    };
  };
  return {
    {job_kind::token_refresh, bind(jobs::sweep_token_refresh)},
    {job_kind::quota_reconciliation, bind(jobs::reconcile_quota)},
    {job_kind::catalog_sync, bind(jobs::sync_catalogs)},
    {job_kind::pricing_import, bind(jobs::import_pricing)},
    {job_kind::usage_rollup, bind(jobs::roll_up_usage)},
    {job_kind::retention, bind(jobs::apply_retention)},
    {job_kind::runtime_cleanup, bind(jobs::clean_runtime)},
  };
}

} // namespace cxp::actors
