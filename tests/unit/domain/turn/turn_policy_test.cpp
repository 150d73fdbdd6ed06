#include "domain/turn/turn_policy.hpp"

#include <catch2/catch.hpp>

using namespace cxp::domain;
using json = nlohmann::json;

namespace {

upstream_frame frame_of(const char* text) {
  return read_upstream_frame(json::parse(text));
}

} // namespace

TEST_CASE("upstream frames are read from their JSON", "[unit][domain][stream]") {
  auto created = frame_of(R"({"type":"response.created","response":{"id":"resp_1"}})");
  CHECK(created.type == "response.created");
  CHECK(created.response_id == "resp_1");
  auto error = frame_of(
    R"({"type":"error","status":429,"error":{"type":"usage_limit_reached","message":"x"}})");
  CHECK(error.status == 429);
  CHECK(error.code == "usage_limit_reached");
  CHECK(error.quota);
  auto legacy = frame_of(R"({"type":"error","status_code":401,"error":{"code":"token_expired"}})");
  CHECK(legacy.status == 401);
  CHECK(legacy.code == "token_expired");
  CHECK_FALSE(legacy.quota);
  CHECK(read_upstream_frame(json::parse("[1,2]")).type.empty());
}

TEST_CASE("prelude frames are held until something visible", "[unit][domain][stream]") {
  for (const auto* type : {"response.created", "response.in_progress", "codex.rate_limits"}) {
    upstream_frame frame;
    frame.type = type;
    CHECK(judge_frame(frame, false, false, false) == frame_verdict::hold);
    CHECK(judge_frame(frame, true, false, false) == frame_verdict::relay);
  }
  upstream_frame delta;
  delta.type = "response.output_text.delta";
  CHECK(judge_frame(delta, false, false, false) == frame_verdict::relay);
  upstream_frame completed;
  completed.type = "response.completed";
  CHECK(judge_frame(completed, false, false, false) == frame_verdict::completed);
  upstream_frame failed;
  failed.type = "response.failed";
  CHECK(judge_frame(failed, true, false, false) == frame_verdict::failed);
}

TEST_CASE("errors before visible output are retried once, never after", "[unit][domain][stream]") {
  auto auth = frame_of(R"({"type":"error","status":401,"error":{"code":"token_expired"}})");
  CHECK(judge_frame(auth, false, false, false) == frame_verdict::refresh_token);
  CHECK(judge_frame(auth, false, true, false) == frame_verdict::failed);
  CHECK(judge_frame(auth, true, false, false) == frame_verdict::failed);
  auto invalid_key = frame_of(R"({"type":"error","error":{"code":"invalid_api_key"}})");
  CHECK(judge_frame(invalid_key, false, false, false) == frame_verdict::refresh_token);

  auto limit = frame_of(
    R"({"type":"error","status":400,"error":{"code":"websocket_connection_limit_reached"}})");
  CHECK(judge_frame(limit, false, false, false) == frame_verdict::reconnect);
  CHECK(judge_frame(limit, false, false, true) == frame_verdict::failed);

  auto quota = frame_of(R"({"type":"error","status":429,"error":{"type":"usage_limit_reached"}})");
  CHECK(judge_frame(quota, false, false, false) == frame_verdict::fail_over);
  CHECK(judge_frame(quota, true, false, false) == frame_verdict::failed);
  auto overloaded = frame_of(R"({"type":"error","status":503,"error":{"code":"overloaded"}})");
  CHECK(judge_frame(overloaded, false, false, false) == frame_verdict::fail_over);

  auto not_found =
    frame_of(R"({"type":"error","status":400,"error":{"code":"previous_response_not_found"}})");
  CHECK(judge_frame(not_found, false, false, false) == frame_verdict::failed);
}
