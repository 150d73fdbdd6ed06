#pragma once

#include "common/metrics/registry.hpp"
#include "edge/server/http_server.hpp"

namespace cxp::edge {

/// Registers the HTTP families in `registry` and returns the completion hook that records every
/// finished exchange: `codex_pooler_http_requests_total{method,route,status_class}` and
/// `codex_pooler_http_request_duration_seconds{route}`. The route label is the matched pattern,
/// so its vocabulary is bounded by the route table.
completion_hook make_http_metrics(metrics::registry& registry);

} // namespace cxp::edge
