#pragma once

#include "common/metrics/registry.hpp"

namespace cxp::actors {

/// The jobs' Prometheus families, registered once per process and shared by reference. Label
/// values are bounded: `kind` is a job kind's name, `outcome` one of succeeded, retried,
/// failed, lost.
struct job_metrics {
  explicit job_metrics(metrics::registry& registry);

  metrics::family<metrics::counter>& runs;           ///< {kind, outcome}
  metrics::family<metrics::histogram>& duration;     ///< {kind}
  metrics::family<metrics::gauge>& queue_depth;      ///< {kind}: queued, due or not
  metrics::family<metrics::gauge>& running;          ///< {kind}
  metrics::family<metrics::gauge>& last_success_age; ///< {kind}; absent until one succeeded
  metrics::family<metrics::counter>& rescued;        ///< no labels
  metrics::gauge& scheduler_leader;                  ///< 1 while this node holds the lease
};

} // namespace cxp::actors
