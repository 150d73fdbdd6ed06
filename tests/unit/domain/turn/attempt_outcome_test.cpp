#include "domain/turn/attempt_outcome.hpp"

#include <catch2/catch.hpp>

using namespace cxp::domain;

TEST_CASE("each attempt outcome maps to one row status, log status and label",
          "[unit][domain][turn]") {
  struct row {
    attempt_outcome outcome;
    const char* label;
    const char* retried_row;
    const char* final_row;
    const char* log;
  };
  const auto expected = GENERATE(values<row>({
    {attempt_outcome::succeeded, "succeeded", "succeeded", "succeeded", "succeeded"},
    {attempt_outcome::usage_limited, "usage_limited", "retryable_failed", "failed", "failed"},
    {attempt_outcome::upstream_error, "upstream_error", "retryable_failed", "failed", "failed"},
    {attempt_outcome::network_error, "network_error", "retryable_failed", "failed", "failed"},
    {attempt_outcome::unauthorized, "unauthorized", "retryable_failed", "failed", "failed"},
    {attempt_outcome::rejected, "rejected", "retryable_failed", "failed", "failed"},
    {attempt_outcome::cancelled, "cancelled", "cancelled", "cancelled", "cancelled"},
  }));
  CHECK(to_string(expected.outcome) == expected.label);
  CHECK(attempt_row_status(expected.outcome, true) == expected.retried_row);
  CHECK(attempt_row_status(expected.outcome, false) == expected.final_row);
  CHECK(request_log_status(expected.outcome) == expected.log);
}

TEST_CASE("a turn that never reached upstream is logged as rejected", "[unit][domain][turn]") {
  CHECK(request_log_status(std::nullopt) == "rejected");
}

TEST_CASE("attempt rows are built from their facts", "[unit][domain][turn]") {
  attempt_facts facts;
  facts.attempt_number = 2;
  facts.account_id = "acct";
  facts.started_at = "2026-01-01T00:00:00Z";
  facts.status_code = 429;
  facts.error_code = "usage_limit_reached";
  facts.latency = std::chrono::milliseconds{12};
  auto row = make_attempt_row(facts, attempt_outcome::usage_limited, true);
  CHECK(row.attempt_number == 2);
  CHECK(row.account_id == "acct");
  CHECK(row.status_code == 429);
  CHECK(row.outcome == "retryable_failed");
  CHECK(row.error_code == "usage_limit_reached");
  CHECK(row.latency_ms == 12);
  CHECK_FALSE(row.ttfb_ms);
}
