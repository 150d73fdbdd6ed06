#include "edge/server/http_metrics.hpp"

#include "common/log.hpp"

namespace cxp::edge {

completion_hook make_http_metrics(metrics::registry& registry) {
  auto& requests = metrics::build_counter()
                     .name("codex_pooler_http_requests_total")
                     .help("HTTP requests served, by method, route pattern and status class")
                     .register_(registry);
  auto& durations = metrics::build_histogram()
                      .name("codex_pooler_http_request_duration_seconds")
                      .help("Time from request read to response ready, by route pattern")
                      .buckets({0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
                      .register_(registry);
  return [&requests, &durations](const exchange& ex, http::status status,
                                 std::chrono::steady_clock::duration took) {
    const auto code = static_cast<unsigned>(status);
    const std::string status_class = std::to_string(code / 100) + "xx";
    const std::string method{http::to_string(ex.request().method())};
    requests.add({{"method", method}, {"route", ex.route_name()}, {"status_class", status_class}})
      .increment();
    const double seconds = std::chrono::duration<double>(took).count();
    durations.add({{"route", ex.route_name()}}).observe(seconds);
    if (log::enabled(log::level::debug)) {
      log::debug("http", "request",
                 {{"method", method},
                  {"route", ex.route_name()},
                  {"status", code},
                  {"duration_ms", seconds * 1000}});
    }
  };
}

} // namespace cxp::edge
