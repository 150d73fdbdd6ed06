#include "actors/upstream/sse_parser.hpp"

#include <catch2/catch.hpp>

using cxp::actors::sse_parser;

namespace {

constexpr std::string_view stream = "event: response.created\n"
                                    "data: {\"type\":\"response.created\"}\n"
                                    "\n"
                                    ": keepalive\n"
                                    "\n"
                                    "event: response.output_text.delta\r\n"
                                    "data: {\"delta\":\"Hel\"}\r\n"
                                    "\r\n"
                                    "data: line one\n"
                                    "data: line two\n"
                                    "\n";

} // namespace

TEST_CASE("events are framed the same however the stream is split",
          "[unit][actors][upstream][sse]") {
  const auto split = GENERATE(1, 2, 3, 7, 64, 1000);
  CAPTURE(split);
  sse_parser parser;
  std::vector<cxp::actors::sse_event> events;
  for (size_t at = 0; at < stream.size(); at += static_cast<size_t>(split)) {
    auto more = parser.feed(stream.substr(at, static_cast<size_t>(split)));
    events.insert(events.end(), more.begin(), more.end());
  }
  REQUIRE(events.size() == 3);
  CHECK(events[0].name == "response.created");
  CHECK(events[0].data == R"({"type":"response.created"})");
  CHECK(events[1].name == "response.output_text.delta");
  CHECK(events[1].data == R"({"delta":"Hel"})");
  CHECK(events[2].name.empty());
  CHECK(events[2].data == "line one\nline two");
}

TEST_CASE("an incomplete event waits for its blank line", "[unit][actors][upstream][sse]") {
  sse_parser parser;
  CHECK(parser.feed("event: x\ndata: 1\n").empty());
  CHECK(parser.feed("\n").size() == 1);
}

TEST_CASE("an event over the size bound is dropped and counted", "[unit][actors][upstream][sse]") {
  sse_parser parser{16};
  auto events = parser.feed("data: " + std::string(64, 'x') + "\n\ndata: ok\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "ok");
  CHECK(parser.oversized_events() == 1);
}
