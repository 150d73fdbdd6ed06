#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edge/routes/v1/chat_response.hpp"
#include "edge/routes/v1/images.hpp"
#include "edge/routes/v1/responses_events.hpp"
#include "tests/unit/edge/v1_fixtures.hpp"

using namespace cxp;
using namespace cxp::edge::v1;
using nlohmann::json;
using test::v1::json_fixture;
using test::v1::read_fixture;
using test::v1::sse_fixture;
using test::v1::sse_payloads;

namespace {

constexpr int64_t created = 1700000000;

/// Feeds a recorded upstream transcript through `translator` and returns what a streaming
/// client reads.
std::string run(stream_translator& translator, const std::string& transcript) {
  std::string out;
  for (const auto& event : sse_fixture(transcript)) {
    out += translator.on_event(event);
  }
  out += translator.on_end();
  return out;
}

std::vector<json> chat_chunks(const std::string& transcript, bool include_usage) {
  chat_stream_translator translator{"gpt-5.5", include_usage, created};
  return sse_payloads(run(translator, transcript));
}

json collected_chat(const std::string& transcript, boost::beast::http::status& status) {
  chat_stream_translator translator{"gpt-5.5", false, created};
  run(translator, transcript);
  auto reply = translator.collected();
  status = reply.status;
  return reply.body;
}

std::vector<std::string> finish_reasons(const std::vector<json>& chunks) {
  std::vector<std::string> out;
  for (const auto& chunk : chunks) {
    if (chunk.is_object() && chunk.contains("choices")) {
      for (const auto& choice : chunk["choices"]) {
        if (!choice["finish_reason"].is_null()) {
          out.push_back(choice["finish_reason"].get<std::string>());
        }
      }
    }
  }
  return out;
}

} // namespace

TEST_CASE("a text stream becomes chat chunks, a usage chunk and [DONE], as recorded",
          "[unit][edge][v1]") {
  const auto expected = json_fixture("expected/chat_text_stream_with_usage.json");
  const auto chunks = chat_chunks("text.sse", true);
  CHECK(json(chunks) == expected);
  SECTION("without include_usage there is no usage chunk") {
    const auto plain = chat_chunks("text.sse", false);
    REQUIRE(plain.size() == expected.size() - 1);
    for (const auto& chunk : plain) {
      CHECK((chunk == "[DONE]" || !chunk.contains("usage")));
    }
    CHECK(plain.back() == "[DONE]");
  }
}

TEST_CASE("collected chat completions match the recorded chat.completion objects",
          "[unit][edge][v1]") {
  boost::beast::http::status status{};
  CHECK(collected_chat("text.sse", status) == json_fixture("expected/chat_text_completion.json"));
  CHECK(status == boost::beast::http::status::ok);
  CHECK(collected_chat("tool_calls_parallel.sse", status)
        == json_fixture("expected/chat_tool_calls_completion.json"));
  CHECK(status == boost::beast::http::status::ok);
}

TEST_CASE("parallel tool calls stream as indexed tool_call deltas", "[unit][edge][v1]") {
  const auto chunks = chat_chunks("tool_calls_parallel.sse", false);
  std::map<int, json> calls;
  for (const auto& chunk : chunks) {
    if (!chunk.is_object() || chunk["choices"].empty()) {
      continue;
    }
    const auto& delta = chunk["choices"][0]["delta"];
    for (const auto& call : delta.value("tool_calls", json::array())) {
      const int index = call["index"].get<int>();
      auto& slot = calls[index];
      if (call.contains("id")) {
        CHECK_FALSE(slot.contains("id")); // the id and name arrive once, in the opening delta
        slot["id"] = call["id"];
        slot["name"] = call["function"]["name"];
        CHECK(call["type"] == "function");
      }
      slot["arguments"] =
        slot.value("arguments", std::string{}) + call["function"].value("arguments", std::string{});
    }
  }
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]
        == json{{"id", "call_a"}, {"name", "get_weather"}, {"arguments", R"({"city":"Paris"})"}});
  CHECK(calls[1] == json{{"id", "call_b"}, {"name", "get_time"}, {"arguments", R"({"tz":"CET"})"}});
  CHECK(finish_reasons(chunks) == std::vector<std::string>{"tool_calls"});
  CHECK(chunks.front()["choices"][0]["delta"]["role"] == "assistant");
  CHECK(chunks.back() == "[DONE]");
}

TEST_CASE("a tool call announced only by output_item.done still streams whole",
          "[unit][edge][v1]") {
  const auto chunks = chat_chunks("custom_tool_minimal.sse", false);
  json call;
  std::string input;
  for (const auto& chunk : chunks) {
    if (!chunk.is_object()) {
      continue;
    }
    for (const auto& delta_call : chunk["choices"][0]["delta"].value("tool_calls", json::array())) {
      if (delta_call.contains("id")) {
        call = delta_call;
      }
      input += delta_call["custom"].value("input", std::string{});
    }
  }
  CHECK(call["id"] == "call_p");
  CHECK(call["type"] == "custom");
  CHECK(call["custom"]["name"] == "apply_patch");
  CHECK(input == "*** Begin Patch\n*** End Patch");
  CHECK(finish_reasons(chunks) == std::vector<std::string>{"tool_calls"});
  boost::beast::http::status status{};
  auto completion = collected_chat("custom_tool_minimal.sse", status);
  CHECK(completion["choices"][0]["message"]["tool_calls"][0]["custom"]["input"] == input);
  CHECK(completion["choices"][0]["message"]["content"].is_null());
}

TEST_CASE("every finish reason maps from the Responses terminal", "[unit][edge][v1]") {
  const auto [transcript, reason] = GENERATE(table<std::string, std::string>({
    {"text.sse", "stop"},
    {"reasoning_then_text.sse", "stop"},
    {"tool_calls_parallel.sse", "tool_calls"},
    {"custom_tool_minimal.sse", "tool_calls"},
    {"incomplete_length.sse", "length"},
    {"incomplete_content_filter.sse", "content_filter"},
  }));
  INFO(transcript);
  CHECK(finish_reasons(chat_chunks(transcript, false)) == std::vector<std::string>{reason});
  boost::beast::http::status status{};
  CHECK(collected_chat(transcript, status)["choices"][0]["finish_reason"] == reason);
  CHECK(status == boost::beast::http::status::ok);
}

TEST_CASE("reasoning items are not content; usage carries cached and reasoning tokens",
          "[unit][edge][v1]") {
  const auto chunks = chat_chunks("reasoning_then_text.sse", true);
  std::string text;
  json usage;
  for (const auto& chunk : chunks) {
    if (!chunk.is_object()) {
      continue;
    }
    if (!chunk["choices"].empty()) {
      text += chunk["choices"][0]["delta"].value("content", std::string{});
    }
    if (chunk.contains("usage")) {
      usage = chunk["usage"];
    }
  }
  CHECK(text == "answer");
  CHECK(usage["prompt_tokens_details"]["cached_tokens"] == 40);
  CHECK(usage["completion_tokens_details"]["reasoning_tokens"] == 15);
  CHECK(usage["total_tokens"] == 70);
}

TEST_CASE("an early upstream failure is one error chunk, without a role chunk or [DONE]",
          "[unit][edge][v1]") {
  const auto chunks = chat_chunks("failed_after_created.sse", true);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0]["error"]["code"] == "context_length_exceeded");
  CHECK(chunks[0]["error"]["type"] == "server_error");
  CHECK(chunks[0]["error"]["message"] == "upstream request failed");
  boost::beast::http::status status{};
  auto body = collected_chat("failed_after_created.sse", status);
  CHECK(status == boost::beast::http::status::bad_gateway);
  CHECK(body["error"]["code"] == "context_length_exceeded");
  CHECK(body.dump().find("secret prompt echo") == std::string::npos);
}

TEST_CASE("a stream cut after visible output ends with an error chunk and no [DONE]",
          "[unit][edge][v1]") {
  const auto chunks = chat_chunks("truncated_after_text.sse", true);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0]["choices"][0]["delta"]["role"] == "assistant");
  CHECK(chunks[1]["choices"][0]["delta"]["content"] == "half an ans");
  CHECK(chunks[2]["error"]["code"] == "stream_incomplete");
  for (const auto& chunk : chunks) {
    CHECK(chunk != "[DONE]");
  }
}

TEST_CASE("public Responses SSE drops codex events and renumbers sequence numbers",
          "[unit][edge][v1]") {
  public_responses_translator translator;
  const auto events = sse_payloads(run(translator, "text.sse"));
  REQUIRE(events.size() == 9); // 10 upstream events less codex.rate_limits
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i]["sequence_number"] == static_cast<int64_t>(i));
    CHECK(events[i]["type"].get<std::string>().rfind("codex.", 0) != 0);
  }
  CHECK(events.front()["type"] == "response.created");
  const auto& completed = events.back();
  CHECK(completed["type"] == "response.completed");
  CHECK(completed["response"]["status"] == "completed");
  CHECK(completed["response"]["model"] == "gpt-5.5");
  REQUIRE(completed["response"]["output"].size() == 1);
  CHECK(completed["response"]["output"][0]["content"][0]["text"] == "hello");
  const auto reply = translator.collected();
  CHECK(reply.status == boost::beast::http::status::ok);
  CHECK(reply.body == completed["response"]);
}

TEST_CASE("public Responses SSE names every successful terminal response.completed",
          "[unit][edge][v1]") {
  public_responses_translator translator;
  const auto text = run(translator, "reasoning_then_text.sse");
  CHECK(text.find("event: response.completed\ndata: ") != std::string::npos);
  CHECK(text.find("response.done") == std::string::npos);
  const auto events = sse_payloads(text);
  CHECK(events.back()["response"]["output"].size() == 2);
  public_responses_translator incomplete;
  CHECK(sse_payloads(run(incomplete, "incomplete_length.sse")).back()["type"]
        == "response.incomplete");
}

TEST_CASE("public Responses SSE sanitizes provider errors", "[unit][edge][v1]") {
  SECTION("response.failed is rebuilt from a projection") {
    public_responses_translator translator;
    const auto text = run(translator, "failed_after_created.sse");
    CHECK(text.find("secret prompt echo") == std::string::npos);
    const auto failed = sse_payloads(text).back();
    CHECK(failed["type"] == "response.failed");
    CHECK(failed["response"]["error"]
          == json{{"code", "context_length_exceeded"}, {"message", "upstream request failed"}});
    CHECK(failed["response"]["output"] == json::array());
    CHECK(failed["response"]["id"] == "resp_f");
    CHECK(translator.collected().status == boost::beast::http::status::bad_gateway);
  }
  SECTION("an error event with an odd code becomes upstream_error") {
    public_responses_translator translator;
    const auto text = run(translator, "error_bad_code.sse");
    CHECK(text.find("/srv/app.py") == std::string::npos);
    const auto error = sse_payloads(text).back();
    CHECK(error["type"] == "error");
    CHECK(error["code"] == "upstream_error");
    CHECK(error["message"] == "upstream request failed");
  }
  SECTION("a stream without a terminal gets one synthetic error event") {
    public_responses_translator translator;
    const auto events = sse_payloads(run(translator, "truncated_after_text.sse"));
    CHECK(events.back()["type"] == "error");
    CHECK(events.back()["code"] == "stream_incomplete");
    CHECK(translator.collected().body["error"]["code"] == "stream_incomplete");
  }
}

TEST_CASE("error codes are kept only when short and plain", "[unit][edge][v1]") {
  CHECK(sanitize_error_code("rate_limit_exceeded") == "rate_limit_exceeded");
  CHECK(sanitize_error_code("a.b-c_1") == "a.b-c_1");
  CHECK(sanitize_error_code(std::string(81, 'a')) == "upstream_error");
  CHECK(sanitize_error_code("has space") == "upstream_error");
  CHECK(sanitize_error_code(json(42)) == "upstream_error");
  CHECK(sanitize_error_code(json(nullptr)) == "upstream_error");
}

TEST_CASE("image_generation_call results become the Images API answer", "[unit][edge][v1]") {
  images_translator translator{created};
  run(translator, "image_generation.sse");
  const auto reply = translator.collected();
  CHECK(reply.status == boost::beast::http::status::ok);
  CHECK(reply.body["created"] == created);
  CHECK(
    reply.body["data"]
    == json::array({{{"b64_json", "iVBORw0KGgo="}, {"revised_prompt", "a red square on white"}}}));
  CHECK(reply.body["usage"]["total_tokens"] == 10);
  SECTION("a turn without an image is a 502") {
    images_translator text_only{created};
    run(text_only, "text.sse");
    CHECK(text_only.collected().status == boost::beast::http::status::bad_gateway);
    CHECK(text_only.collected().body["error"]["code"] == "image_generation_failed");
  }
}

TEST_CASE("refusals stream as refusal deltas and collect into message.refusal",
          "[unit][edge][v1]") {
  const auto chunks = chat_chunks("refusal.sse", false);
  std::string refusal;
  for (const auto& chunk : chunks) {
    if (chunk.is_object() && !chunk["choices"].empty()) {
      refusal += chunk["choices"][0]["delta"].value("refusal", std::string{});
      const auto& delta = chunk["choices"][0]["delta"];
      CHECK(delta.value("content", std::string{}).empty());
    }
  }
  CHECK(refusal == "I can't help with that.");
  CHECK(finish_reasons(chunks) == std::vector<std::string>{"stop"});
  boost::beast::http::status status{};
  const auto completion = collected_chat("refusal.sse", status);
  CHECK(completion["choices"][0]["message"]["refusal"] == "I can't help with that.");
  CHECK(completion["choices"][0]["message"]["content"].is_null());
}
