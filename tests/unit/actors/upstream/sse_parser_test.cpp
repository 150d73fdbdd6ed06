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

/// The events of `text` fed to one parser in pieces of `split` bytes.
std::vector<cxp::actors::sse_event> feed_in_pieces(std::string_view text, int split) {
  sse_parser parser;
  std::vector<cxp::actors::sse_event> events;
  for (size_t at = 0; at < text.size(); at += static_cast<size_t>(split)) {
    auto more = parser.feed(text.substr(at, static_cast<size_t>(split)));
    events.insert(events.end(), more.begin(), more.end());
  }
  return events;
}

} // namespace

TEST_CASE("events are framed the same however the stream is split",
          "[unit][actors][upstream][sse]") {
  const auto split = GENERATE(1, 2, 3, 7, 64, 1000);
  CAPTURE(split);
  const auto events = feed_in_pieces(stream, split);
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

TEST_CASE("an event whole inside one read is handed out without a copy",
          "[unit][actors][upstream][sse]") {
  sse_parser parser;
  const std::string chunk = "event: response.output_text.delta\ndata: {\"delta\":\"Hel\"}\n\n";
  const auto inside = [&chunk](std::string_view view) {
    return view.data() >= chunk.data() && view.data() + view.size() <= chunk.data() + chunk.size();
  };
  int seen = 0;
  parser.feed(chunk, [&](const cxp::actors::sse_event_view& event) {
    ++seen;
    CHECK(event.name == "response.output_text.delta");
    CHECK(inside(event.name));
    CHECK(inside(event.data));
    return true;
  });
  CHECK(seen == 1);
}

TEST_CASE("an event split across reads outlives the read it started in",
          "[unit][actors][upstream][sse]") {
  sse_parser parser;
  std::string first = "event: response.completed\ndata: {\"a\":";
  CHECK(parser.feed(first).empty());
  first.assign(first.size(), '#'); // the caller reuses its buffer
  auto events = parser.feed(std::string{"1}\n\n"});
  REQUIRE(events.size() == 1);
  CHECK(events[0].name == "response.completed");
  CHECK(events[0].data == R"({"a":1})");
}

TEST_CASE("the callback stops the framing", "[unit][actors][upstream][sse]") {
  sse_parser parser;
  int seen = 0;
  const bool finished = parser.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", [&seen](const auto&) {
    ++seen;
    return seen < 2;
  });
  CHECK_FALSE(finished);
  CHECK(seen == 2);
}

TEST_CASE("a line over the size bound is dropped even when it spans reads",
          "[unit][actors][upstream][sse]") {
  sse_parser parser{16};
  CHECK(parser.feed("data: " + std::string(10, 'x')).empty());
  CHECK(parser.feed(std::string(20, 'y')).empty());
  auto events = parser.feed("\n\ndata: ok\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "ok");
  CHECK(parser.oversized_events() == 1);
}

TEST_CASE("a lone CR ends a line, also before an LF later in the same read",
          "[unit][actors][upstream][sse]") {
  const auto split = GENERATE(1, 2, 5, 1000);
  CAPTURE(split);
  constexpr std::string_view mixed = "event: first\rdata: a\rdata: b\r\r"
                                     "data: c\n\n"
                                     "data: d\r\n\r\n";
  const auto events = feed_in_pieces(mixed, split);
  REQUIRE(events.size() == 3);
  CHECK(events[0].name == "first");
  CHECK(events[0].data == "a\nb");
  CHECK(events[1].data == "c");
  CHECK(events[2].data == "d");
}
