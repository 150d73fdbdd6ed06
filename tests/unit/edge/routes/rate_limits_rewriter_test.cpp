#include "edge/routes/codex/rate_limits_rewriter.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using edge::rate_limits_rewriter;

namespace {

const std::string created =
  "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{}}\n\n";
const std::string upstream_limits =
  "event: codex.rate_limits\ndata: {\"type\":\"codex.rate_limits\",\"rate_limits\":{}}\n\n";
const std::string delta =
  "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
  "\"delta\":\"hi\"}\n\n";
const std::string pooled = "event: codex.rate_limits\ndata: {\"pooled\":true}\n\n";

} // namespace

TEST_CASE("the pooled rate limits replace the upstream's, after the first event",
          "[unit][edge][codex][rate_limits]") {
  rate_limits_rewriter rewriter;
  rewriter.set_pooled(pooled);
  const auto stream = created + upstream_limits + delta + upstream_limits + delta;
  const auto expected = created + pooled + delta + delta;

  SECTION("in one chunk") {
    CHECK(rewriter.feed(stream) == expected);
  }
  SECTION("split at every byte") {
    std::string out;
    for (char c : stream) {
      out += rewriter.feed(std::string_view{&c, 1});
    }
    CHECK(out == expected);
  }
  CHECK(rewriter.take_rest().empty());
}

TEST_CASE("the rewriter holds an unfinished event and keeps comments and CRLF events",
          "[unit][edge][codex][rate_limits]") {
  rate_limits_rewriter rewriter;
  rewriter.set_pooled(pooled);
  CHECK(rewriter.feed(": keepalive\n\n") == ": keepalive\n\n"); // a comment is no first event
  CHECK(rewriter.feed("data: {\"type\":\"codex.rate_limits\"}\r\n").empty());
  // An unnamed rate-limits event (type in its data) with CRLF line ends comes first: the
  // pooled events take its place.
  CHECK(rewriter.feed("\r\n" + delta.substr(0, 10)) == pooled);
  CHECK(rewriter.feed(delta.substr(10)) == delta);
  CHECK(rewriter.feed("data: {\"type\":\"response.com").empty());
  CHECK(rewriter.take_rest() == "data: {\"type\":\"response.com");
}

TEST_CASE("an event that only mentions rate limits in its text is relayed",
          "[unit][edge][codex][rate_limits]") {
  rate_limits_rewriter rewriter;
  rewriter.set_pooled(pooled);
  const std::string mention =
    "data: {\"type\":\"response.output_text.delta\",\"delta\":\"codex.rate_limits\"}\n\n";
  CHECK(rewriter.feed(created + mention) == created + pooled + mention);
  // A `type` that is not a string is no rate-limits event (and reading it must not throw).
  const std::string odd_type = "data: {\"type\":5,\"note\":\"codex.rate_limits\"}\n\n";
  CHECK(rewriter.feed(odd_type) == odd_type);
}

TEST_CASE("the pooled events are named codex.rate_limits events",
          "[unit][edge][codex][rate_limits]") {
  domain::pooled_quota quota;
  quota.main.primary = domain::pooled_window{300, 12.5, std::nullopt};
  const auto text = edge::rate_limits_sse(quota);
  CHECK(text.rfind("event: codex.rate_limits\ndata: {", 0) == 0);
  CHECK(text.find("\"used_percent\":12.5") != std::string::npos);
  CHECK(text.substr(text.size() - 2) == "\n\n");
  CHECK(edge::rate_limits_sse(quota) == text);

  // The text is remembered between calls: every change of the quota must show.
  quota.main.primary->used_percent = 40;
  const auto busier = edge::rate_limits_sse(quota);
  CHECK(busier.find("\"used_percent\":40") != std::string::npos);
  CHECK(busier.find("\"used_percent\":12.5") == std::string::npos);
  domain::pooled_family other;
  other.limit_id = "codex_other";
  other.secondary = domain::pooled_window{10080, 3, std::nullopt};
  quota.additional.push_back(other);
  const auto two = edge::rate_limits_sse(quota);
  CHECK(two.rfind(busier, 0) == 0);
  CHECK(two.find("\"metered_limit_name\":\"codex_other\"") != std::string::npos);
  quota.plan_type = "pro";
  CHECK(edge::rate_limits_sse(quota).find("\"plan_type\":\"pro\"") != std::string::npos);
}
