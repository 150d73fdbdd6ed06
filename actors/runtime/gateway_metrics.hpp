#pragma once

#include "common/metrics/registry.hpp"

namespace cxp::actors {

/// The request path's Prometheus families, registered once per process and shared by reference
/// (every metric is lock-free). Label values are bounded vocabularies: route patterns, status
/// classes, `attempt_result` and refresh outcome names, circuit transitions, account statuses.
struct gateway_metrics {
  explicit gateway_metrics(metrics::registry& registry);

  metrics::family<metrics::counter>& requests;             ///< {route, status}
  metrics::family<metrics::counter>& upstream_attempts;    ///< {outcome}
  metrics::family<metrics::counter>& failovers;            ///< {reason}
  metrics::family<metrics::counter>& token_refreshes;      ///< {outcome}
  metrics::family<metrics::counter>& circuit_transitions;  ///< {transition}
  metrics::family<metrics::histogram>& time_to_first_byte; ///< {route}
  metrics::family<metrics::histogram>& request_duration;   ///< {route}
  metrics::family<metrics::gauge>& leases_in_use;          ///< no labels
  metrics::family<metrics::gauge>& accounts;               ///< {state}
  metrics::family<metrics::counter>& admissions;           ///< {route_class, outcome}
  metrics::family<metrics::gauge>& admission_running;      ///< {route_class}
  metrics::family<metrics::gauge>& admission_queued;       ///< {route_class}
  metrics::family<metrics::gauge>& account_owner_nodes;    ///< no labels
  metrics::family<metrics::gauge>& accounts_owned;         ///< no labels
  /// Upstream websockets of detached sessions closed by a cap, {limit}: `api_key` or `account`.
  metrics::family<metrics::counter>& websocket_detached_closed;
  metrics::family<metrics::counter>& actor_restarts; ///< no labels
  /// Request-log rows the writer dropped unwritten (its buffer full while writes fail); no labels.
  metrics::family<metrics::counter>& request_logs_dropped;
  /// Per pool, by pool id (every node reports the same numbers; see domain::pool_capacity):
  metrics::family<metrics::gauge>& pool_accounts;           ///< {pool}: accounts, any status
  metrics::family<metrics::gauge>& pool_eligible_accounts;  ///< {pool}: routable, not blocked
  metrics::family<metrics::gauge>& pool_quota_used_percent; ///< {pool, window}: primary|secondary
  /// Cluster peers this node should be connected to (configured peers plus the DNS query's
  /// addresses at its last resolution, its own included) and the ones it is; both 0 when not
  /// clustered.
  metrics::gauge& cluster_peers_expected;
  metrics::gauge& cluster_peers_connected;
};

} // namespace cxp::actors
