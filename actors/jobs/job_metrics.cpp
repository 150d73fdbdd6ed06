#include "actors/jobs/job_metrics.hpp"

namespace cxp::actors {

namespace {

/// Jobs run from milliseconds (a no-op sweep) to many minutes (a retention pass on a big log).
const std::vector<double> job_duration_buckets = {0.01, 0.05, 0.1, 0.5, 1,   2.5, 5,
                                                  10,   30,   60,  120, 300, 900, 1800};

} // namespace

job_metrics::job_metrics(metrics::registry& registry)
    : runs(metrics::build_counter()
             .name("codex_pooler_jobs_total")
             .help("Job runs by kind and outcome (succeeded, retried, failed, lost: the claim "
                   "timed out and was taken over before the run ended)")
             .register_(registry)),
      duration(metrics::build_histogram()
                 .name("codex_pooler_job_duration_seconds")
                 .help("How long a job run took on its worker, by kind")
                 .buckets(job_duration_buckets)
                 .register_(registry)),
      queue_depth(metrics::build_gauge()
                    .name("codex_pooler_job_queue_depth")
                    .help("Jobs waiting in the queue (due or not), by kind")
                    .register_(registry)),
      running(metrics::build_gauge()
                .name("codex_pooler_jobs_running")
                .help("Jobs claimed by a worker and not finished, by kind")
                .register_(registry)),
      last_success_age(metrics::build_gauge()
                         .name("codex_pooler_job_last_success_age_seconds")
                         .help("Seconds since a job of the kind last succeeded, anywhere in the "
                               "cluster")
                         .register_(registry)),
      rescued(metrics::build_counter()
                .name("codex_pooler_jobs_rescued_total")
                .help("Claims that outlived their timeout (a worker died or hung) and went back "
                      "to the queue or failed")
                .register_(registry)),
      scheduler_leader(metrics::build_gauge()
                         .name("codex_pooler_scheduler_leader")
                         .help("1 while this node holds the scheduler lease and enqueues "
                               "scheduled jobs")
                         .register_(registry)
                         .add({})) {
  rescued.add({}); // at 0 until a claim is rescued, so rates over it work from the start
}

} // namespace cxp::actors
