#include "domain/turn/turn_policy.hpp"

#include <catch2/catch.hpp>

using namespace cxp::domain;
using json = nlohmann::json;

namespace {

turn_signal frame_of(const char* text) {
  return read_upstream_frame(json::parse(text));
}

turn_signal event_named(const char* type) {
  turn_signal signal;
  signal.type = type;
  return signal;
}

turn_signal answer(int32_t status, const char* body = "{}") {
  return read_upstream_answer(status, json::parse(body));
}

turn_signal transport_failure(const char* name) {
  turn_signal signal;
  signal.kind = signal_kind::transport_failure;
  signal.code = name;
  return signal;
}

turn_signal malformed() {
  turn_signal signal;
  signal.kind = signal_kind::malformed;
  return signal;
}

constexpr attempt_state fresh{};
constexpr attempt_state visible{true, false, false, true};
constexpr attempt_state refreshed{false, true, false, true};
constexpr attempt_state reconnected{false, false, true, true};
constexpr attempt_state no_failover{false, false, false, false};

} // namespace

TEST_CASE("upstream events are read from their JSON", "[unit][domain][turn]") {
  auto created = frame_of(R"({"type":"response.created","response":{"id":"resp_1"}})");
  CHECK(created.kind == signal_kind::event);
  CHECK(created.type == "response.created");
  CHECK(created.response_id == "resp_1");
  auto error = frame_of(
    R"({"type":"error","status":429,"error":{"type":"usage_limit_reached","message":"x"}})");
  CHECK(error.status == 429);
  CHECK(error.code == "usage_limit_reached");
  auto legacy = frame_of(R"({"type":"error","status_code":401,"error":{"code":"token_expired"}})");
  CHECK(legacy.status == 401);
  CHECK(legacy.code == "token_expired");
  auto failed =
    frame_of(R"({"type":"response.failed","response":{"id":"r","error":{"code":"server_error"}}})");
  CHECK(failed.code == "server_error");
  CHECK(failed.response_id == "r");
  CHECK(read_upstream_frame(json::parse("[1,2]")).type.empty());
}

TEST_CASE("buffered answers are read from status and error body", "[unit][domain][turn]") {
  auto limited = answer(429, R"({"error":{"type":"usage_limit_reached"}})");
  CHECK(limited.kind == signal_kind::answer);
  CHECK(limited.status == 429);
  CHECK(limited.code == "usage_limit_reached");
  CHECK(answer(401, R"({"error":{"code":"token_expired","type":"invalid_request_error"}})").code
        == "token_expired");
  CHECK(answer(502, "[]").code.empty());
}

TEST_CASE("the error code lists are shared by both transports", "[unit][domain][turn]") {
  for (const auto* code :
       {"invalid_api_key", "invalid_authentication", "token_expired", "account_mismatch"}) {
    CHECK(is_auth_error_code(code));
    CHECK_FALSE(is_quota_code(code));
  }
  for (const auto* code : {"usage_limit_reached", "rate_limit_exceeded", "insufficient_quota"}) {
    CHECK(is_quota_code(code));
    CHECK_FALSE(is_auth_error_code(code));
  }
  CHECK(is_retryable_code("server_error"));
  CHECK(is_retryable_code("server_is_overloaded"));
  CHECK_FALSE(is_retryable_code("previous_response_not_found"));
}

TEST_CASE("stream events: prelude held, visible relayed, terminal ones end the turn",
          "[unit][domain][turn]") {
  for (const auto* type : {"response.created", "response.in_progress", "codex.rate_limits"}) {
    CHECK(judge(event_named(type), fresh) == turn_verdict::hold);
    CHECK(judge(event_named(type), visible) == turn_verdict::relay);
  }
  CHECK(judge(event_named("response.output_text.delta"), fresh) == turn_verdict::relay);
  CHECK(judge(event_named("response.completed"), fresh) == turn_verdict::completed);
  CHECK(judge(event_named("response.completed"), visible) == turn_verdict::completed);
  CHECK(judge(event_named("response.failed"), visible) == turn_verdict::failed);
  CHECK(judge(event_named("response.incomplete"), fresh) == turn_verdict::failed);
}

TEST_CASE("a retryable failed first event fails over; after visible output it fails",
          "[unit][domain][turn]") {
  auto failed =
    frame_of(R"({"type":"response.failed","response":{"error":{"code":"server_error"}}})");
  CHECK(judge(failed, fresh) == turn_verdict::fail_over);
  CHECK(judge(failed, visible) == turn_verdict::failed);
  CHECK(judge(failed, no_failover) == turn_verdict::failed);
  auto quota =
    frame_of(R"({"type":"response.failed","response":{"error":{"code":"usage_limit_reached"}}})");
  CHECK(judge(quota, fresh) == turn_verdict::fail_over);
  auto auth =
    frame_of(R"({"type":"response.failed","response":{"error":{"code":"token_expired"}}})");
  CHECK(judge(auth, fresh) == turn_verdict::refresh_token);
  auto policy =
    frame_of(R"({"type":"response.failed","response":{"error":{"code":"content_filter"}}})");
  CHECK(judge(policy, fresh) == turn_verdict::failed);
}

TEST_CASE("auth errors refresh once, by status or by code, on both transports",
          "[unit][domain][turn]") {
  const auto signal =
    GENERATE(frame_of(R"({"type":"error","status":401,"error":{"code":"whatever"}})"),
             frame_of(R"({"type":"error","status":400,"error":{"code":"token_expired"}})"),
             frame_of(R"({"type":"error","error":{"code":"invalid_api_key"}})"),
             frame_of(R"({"type":"error","error":{"code":"invalid_authentication"}})"),
             frame_of(R"({"type":"error","error":{"code":"account_mismatch"}})"), answer(401),
             answer(403, R"({"error":{"code":"token_expired"}})"),
             answer(400, R"({"error":{"type":"invalid_api_key"}})"));
  INFO(signal.status << " " << signal.code);
  CHECK(judge(signal, fresh) == turn_verdict::refresh_token);
  CHECK(judge(signal, refreshed) == turn_verdict::fail_over);
  CHECK(judge(signal, attempt_state{false, true, false, false}) == turn_verdict::failed);
  CHECK(judge(signal, visible) == turn_verdict::failed);
  CHECK(outcome_of(signal) == attempt_outcome::unauthorized);
}

TEST_CASE("429, 5xx, usage limits and transport failures fail over before visible output",
          "[unit][domain][turn]") {
  const auto signal = GENERATE(
    answer(429, R"({"error":{"type":"usage_limit_reached"}})"), answer(429), answer(500),
    answer(503, R"({"error":{"code":"server_is_overloaded"}})"),
    frame_of(R"({"type":"error","status":429,"error":{"type":"usage_limit_reached"}})"),
    frame_of(R"({"type":"error","status":503,"error":{"code":"overloaded"}})"),
    frame_of(R"({"type":"error","error":{"code":"insufficient_quota"}})"),
    transport_failure("connect_failed"), transport_failure("upstream_closed"), malformed());
  INFO(static_cast<int>(signal.kind) << " " << signal.status << " " << signal.code);
  CHECK(judge(signal, fresh) == turn_verdict::fail_over);
  CHECK(judge(signal, refreshed) == turn_verdict::fail_over);
  CHECK(judge(signal, no_failover) == turn_verdict::failed);
  CHECK(judge(signal, visible) == turn_verdict::failed);
}

TEST_CASE("the connection limit reconnects once", "[unit][domain][turn]") {
  auto limit = frame_of(
    R"({"type":"error","status":400,"error":{"code":"websocket_connection_limit_reached"}})");
  CHECK(judge(limit, fresh) == turn_verdict::reconnect);
  CHECK(judge(limit, reconnected) == turn_verdict::fail_over);
  CHECK(judge(limit, visible) == turn_verdict::failed);
}

TEST_CASE("other 4xx answers are the request's fault: relayed, never retried",
          "[unit][domain][turn]") {
  const auto signal = GENERATE(
    answer(400, R"({"error":{"code":"invalid_value"}})"), answer(404), answer(413),
    frame_of(R"({"type":"error","status":400,"error":{"code":"previous_response_not_found"}})"),
    frame_of(R"({"type":"error","error":{"code":"unsupported_frame"}})"));
  CHECK(judge(signal, fresh) == turn_verdict::reject);
  CHECK(judge(signal, refreshed) == turn_verdict::reject);
  CHECK(judge(signal, no_failover) == turn_verdict::reject);
  CHECK(outcome_of(signal) == attempt_outcome::rejected);
}

TEST_CASE("a successful buffered answer completes the turn", "[unit][domain][turn]") {
  CHECK(judge(answer(200), fresh) == turn_verdict::completed);
  CHECK(outcome_of(answer(200)) == attempt_outcome::succeeded);
}

TEST_CASE("every signal has one outcome and one attempt error code", "[unit][domain][turn]") {
  CHECK(outcome_of(answer(429, R"({"error":{"type":"usage_limit_reached"}})"))
        == attempt_outcome::usage_limited);
  CHECK(outcome_of(answer(429)) == attempt_outcome::upstream_error);
  CHECK(outcome_of(answer(502)) == attempt_outcome::upstream_error);
  CHECK(outcome_of(transport_failure("x")) == attempt_outcome::network_error);
  CHECK(outcome_of(malformed()) == attempt_outcome::upstream_error);
  CHECK(outcome_of(event_named("response.completed")) == attempt_outcome::succeeded);
  CHECK(
    outcome_of(frame_of(R"({"type":"error","status":429,"error":{"code":"rate_limit_exceeded"}})"))
    == attempt_outcome::usage_limited);

  CHECK(attempt_error_code(answer(429, R"({"error":{"type":"usage_limit_reached"}})"))
        == "usage_limit_reached");
  CHECK(attempt_error_code(answer(401)) == "upstream_401");
  CHECK(attempt_error_code(answer(503)) == "upstream_503");
  CHECK(attempt_error_code(malformed()) == "upstream_malformed_answer");
  CHECK(attempt_error_code(transport_failure("connect_failed")) == "connect_failed");
  CHECK(attempt_error_code(transport_failure("")) == "network_error");
  CHECK(attempt_error_code(frame_of(R"({"type":"error","status":400,"error":{"code":"x_y"}})"))
        == "x_y");
  CHECK(attempt_error_code(frame_of(R"({"type":"error","status":502})")) == "upstream_502");
}

TEST_CASE("verdicts have stable names", "[unit][domain][turn]") {
  CHECK(to_string(turn_verdict::hold) == "hold");
  CHECK(to_string(turn_verdict::fail_over) == "fail_over");
  CHECK(to_string(turn_verdict::reject) == "reject");
  CHECK(to_string(turn_verdict::refresh_token) == "refresh_token");
}

TEST_CASE("websocket error frames carry their headers", "[unit][domain][turn]") {
  auto headers = frame_headers(
    json::parse(R"({"type":"error","headers":{"X-Codex-Active-Limit":"codex","N":5}})"));
  CHECK(headers["x-codex-active-limit"] == "codex");
  CHECK(headers["n"] == "5");
  CHECK(frame_headers(json::parse(R"({"type":"error"})")).empty());
}

TEST_CASE("a refused upgrade refreshes on 401 and otherwise fails over", "[unit][domain][turn]") {
  auto refused = [](int32_t status) {
    turn_signal signal;
    signal.kind = signal_kind::transport_failure;
    signal.status = status;
    return signal;
  };
  CHECK(judge(refused(401), fresh) == turn_verdict::refresh_token);
  CHECK(judge(refused(401), refreshed) == turn_verdict::fail_over);
  CHECK(outcome_of(refused(401)) == attempt_outcome::unauthorized);
  CHECK(judge(refused(403), fresh) == turn_verdict::fail_over);
  CHECK(outcome_of(refused(403)) == attempt_outcome::network_error);
  CHECK(judge(refused(503), fresh) == turn_verdict::fail_over);
  CHECK(outcome_of(refused(503)) == attempt_outcome::upstream_error);
  CHECK(attempt_error_code(refused(426)) == "upgrade_426");
}

TEST_CASE("a reused connection that broke before visible output reconnects once",
          "[unit][domain][turn]") {
  turn_signal closed;
  closed.kind = signal_kind::transport_failure;
  closed.code = "upstream_closed";
  attempt_state reused;
  reused.reused = true;
  CHECK(judge(closed, reused) == turn_verdict::reconnect);
  reused.reconnected = true;
  CHECK(judge(closed, reused) == turn_verdict::fail_over);
  reused.visible = true;
  CHECK(judge(closed, reused) == turn_verdict::failed);
}

TEST_CASE("a failed response without a code is the upstream's own failure",
          "[unit][domain][turn]") {
  auto failed = frame_of(R"({"type":"response.failed","response":{"id":"r"}})");
  CHECK(failed.code == "server_error");
  CHECK(judge(failed, fresh) == turn_verdict::fail_over);
  CHECK(outcome_of(failed) == attempt_outcome::upstream_error);
}
