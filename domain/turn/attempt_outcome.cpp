#include "domain/turn/attempt_outcome.hpp"

namespace cxp::domain {

std::string_view to_string(attempt_outcome outcome) {
  switch (outcome) {
  case attempt_outcome::succeeded:
    return "succeeded";
  case attempt_outcome::usage_limited:
    return "usage_limited";
  case attempt_outcome::upstream_error:
    return "upstream_error";
  case attempt_outcome::network_error:
    return "network_error";
  case attempt_outcome::unauthorized:
    return "unauthorized";
  case attempt_outcome::rejected:
    return "rejected";
  case attempt_outcome::cancelled:
    return "cancelled";
  }
  return "upstream_error";
}

std::string_view attempt_row_status(attempt_outcome outcome, bool retried) {
  switch (outcome) {
  case attempt_outcome::succeeded:
    return "succeeded";
  case attempt_outcome::cancelled:
    return "cancelled";
  default:
    return retried ? "retryable_failed" : "failed";
  }
}

std::string_view request_log_status(std::optional<attempt_outcome> last) {
  if (!last) {
    return "rejected";
  }
  switch (*last) {
  case attempt_outcome::succeeded:
    return "succeeded";
  case attempt_outcome::cancelled:
    return "cancelled";
  default:
    return "failed";
  }
}

persistence::request_attempt_row make_attempt_row(attempt_facts facts, attempt_outcome outcome,
                                                  bool retried) {
  persistence::request_attempt_row row;
  row.attempt_number = facts.attempt_number;
  row.account_id = std::move(facts.account_id);
  row.started_at = std::move(facts.started_at);
  row.status_code = facts.status_code;
  row.outcome = std::string{attempt_row_status(outcome, retried)};
  row.error_code = std::move(facts.error_code);
  row.latency_ms = facts.latency.count();
  row.ttfb_ms = facts.ttfb_ms;
  return row;
}

} // namespace cxp::domain
