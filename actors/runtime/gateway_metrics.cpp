#include "actors/runtime/gateway_metrics.hpp"

namespace cxp::actors {

namespace {

const std::vector<double> latency_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,   0.5,   1,      2.5,   5,    10,    30,   60};

} // namespace

gateway_metrics::gateway_metrics(metrics::registry& registry)
    : requests(metrics::build_counter()
                 .name("codex_pooler_gateway_requests_total")
                 .help("Proxied requests by route and final HTTP status")
                 .register_(registry)),
      upstream_attempts(metrics::build_counter()
                          .name("codex_pooler_gateway_upstream_attempts_total")
                          .help("Upstream attempts by outcome")
                          .register_(registry)),
      failovers(metrics::build_counter()
                  .name("codex_pooler_gateway_failovers_total")
                  .help("Attempts retried on another account, by the failed attempt's outcome")
                  .register_(registry)),
      token_refreshes(metrics::build_counter()
                        .name("codex_pooler_gateway_token_refreshes_total")
                        .help("OAuth token refreshes by outcome")
                        .register_(registry)),
      circuit_transitions(metrics::build_counter()
                            .name("codex_pooler_gateway_circuit_transitions_total")
                            .help("Routing circuit state changes")
                            .register_(registry)),
      time_to_first_byte(metrics::build_histogram()
                           .name("codex_pooler_gateway_time_to_first_byte_seconds")
                           .help("Request start to the first response byte sent to the client")
                           .buckets(latency_buckets)
                           .register_(registry)),
      request_duration(metrics::build_histogram()
                         .name("codex_pooler_gateway_request_duration_seconds")
                         .help("Request start to the end of the response")
                         .buckets(latency_buckets)
                         .register_(registry)),
      leases_in_use(metrics::build_gauge()
                      .name("codex_pooler_gateway_leases_in_use")
                      .help("Account leases held by requests in flight")
                      .register_(registry)),
      accounts(metrics::build_gauge()
                 .name("codex_pooler_gateway_accounts")
                 .help("Routable upstream accounts on this node by state")
                 .register_(registry)),
      admissions(metrics::build_counter()
                   .name("codex_pooler_gateway_admissions_total")
                   .help("Route-class admission decisions: accepted, enqueued, rejected, timeout")
                   .register_(registry)),
      admission_running(metrics::build_gauge()
                          .name("codex_pooler_gateway_admission_running")
                          .help("Admitted requests running, by route class")
                          .register_(registry)),
      admission_queued(metrics::build_gauge()
                         .name("codex_pooler_gateway_admission_queued")
                         .help("Requests waiting for admission, by route class")
                         .register_(registry)),
      account_owner_nodes(metrics::build_gauge()
                            .name("codex_pooler_cluster_account_owner_nodes")
                            .help("Live nodes whose role may own upstream accounts (0: no node "
                                  "refreshes tokens)")
                            .register_(registry)),
      accounts_owned(metrics::build_gauge()
                       .name("codex_pooler_cluster_accounts_owned")
                       .help("Upstream accounts whose lease this node holds")
                       .register_(registry)),
      websocket_detached_closed(
        metrics::build_counter()
          .name("codex_pooler_gateway_websocket_detached_closed_total")
          .help("Upstream websockets of detached sessions closed by the per key or per account "
                "cap (least recently used first), by limit")
          .register_(registry)),
      actor_restarts(metrics::build_counter()
                       .name("codex_pooler_actor_restarts_total")
                       .help("Pool and account actors that failed and were spawned again")
                       .register_(registry)),
      request_logs_dropped(
        metrics::build_counter()
          .name("codex_pooler_request_logs_dropped_total")
          .help("Request-log rows dropped unwritten because the writer's buffer was full while "
                "database writes kept failing")
          .register_(registry)),
      pool_accounts(metrics::build_gauge()
                      .name("codex_pooler_pool_accounts")
                      .help("Upstream accounts in the pool, any status, by pool id")
                      .register_(registry)),
      pool_eligible_accounts(metrics::build_gauge()
                               .name("codex_pooler_pool_eligible_accounts")
                               .help("Routable accounts of the pool that no usage limit blocks "
                                     "now (0: the pool cannot serve a turn), by pool id")
                               .register_(registry)),
      pool_quota_used_percent(metrics::build_gauge()
                                .name("codex_pooler_pool_quota_used_percent")
                                .help("The pool's pooled quota used, 0..100, by pool id and window "
                                      "(primary: 5 h, secondary: weekly)")
                                .register_(registry)),
      cluster_peers_expected(metrics::build_gauge()
                               .name("codex_pooler_cluster_peers_expected")
                               .help("Cluster endpoints this node dials: configured peers plus the "
                                     "DNS query's addresses (0: not clustered)")
                               .register_(registry)
                               .add({})),
      cluster_peers_connected(metrics::build_gauge()
                                .name("codex_pooler_cluster_peers_connected")
                                .help("Cluster endpoints this node is connected to")
                                .register_(registry)
                                .add({})) {
  // Series of rare events start at 0, so a rate() over them and the dashboard work before the
  // first one happens (the labels are the whole vocabulary).
  for (const auto* outcome : {"refreshed", "revoked", "transient_failure"}) {
    token_refreshes.add({{"outcome", outcome}});
  }
  for (const auto* transition :
       {"closed_to_open", "open_to_half_open", "half_open_to_closed", "half_open_to_open"}) {
    circuit_transitions.add({{"transition", transition}});
  }
  for (const auto* limit : {"api_key", "account"}) {
    websocket_detached_closed.add({{"limit", limit}});
  }
}

} // namespace cxp::actors
