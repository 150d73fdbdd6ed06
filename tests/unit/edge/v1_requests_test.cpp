#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edge/routes/v1/chat_request.hpp"
#include "edge/routes/v1/responses_request.hpp"
#include "tests/unit/edge/v1_fixtures.hpp"

using namespace cxp;
using namespace cxp::edge::v1;
using nlohmann::json;
using test::v1::check_subset;
using test::v1::json_fixture;

TEST_CASE("chat.completions requests translate to Responses requests as recorded",
          "[unit][edge][v1]") {
  const auto cases = json_fixture("chat_requests.json");
  REQUIRE(cases.size() > 10);
  for (const auto& c : cases) {
    SECTION(c["name"].get<std::string>()) {
      chat_translation out;
      auto error = chat_to_responses(c["request"], out);
      if (c.contains("error")) {
        REQUIRE(error);
        CHECK(to_string(error->code) == c["error"]["code"].get<std::string>());
        CHECK(error->param.value_or("") == c["error"]["param"].get<std::string>());
        CHECK(!error->message.empty());
      } else {
        INFO((error ? error->message : std::string{}));
        REQUIRE_FALSE(error);
        check_subset(out.responses, c["expect"]);
        CHECK(out.stream == c["stream"].get<bool>());
        CHECK(out.include_usage == c["include_usage"].get<bool>());
      }
    }
  }
}

TEST_CASE("public Responses requests are normalized for the Codex backend as recorded",
          "[unit][edge][v1]") {
  const auto cases = json_fixture("responses_requests.json");
  REQUIRE(cases.size() > 10);
  for (const auto& c : cases) {
    SECTION(c["name"].get<std::string>()) {
      normalized_request out;
      auto error = normalize_responses_request(c["request"], out);
      if (c.contains("error")) {
        REQUIRE(error);
        CHECK(to_string(error->code) == c["error"]["code"].get<std::string>());
        CHECK(error->param.value_or("") == c["error"]["param"].get<std::string>());
      } else {
        INFO((error ? error->message : std::string{}));
        REQUIRE_FALSE(error);
        check_subset(out.body, c["expect"]);
        CHECK(out.client_stream == c["client_stream"].get<bool>());
        for (const auto& name : c.value("absent", json::array())) {
          INFO(name.get<std::string>());
          CHECK_FALSE(out.body.contains(name.get<std::string>()));
        }
        // Whatever the client sent, the backend always gets a stateless stream.
        CHECK(out.body["stream"] == true);
        CHECK(out.body["store"] == false);
        CHECK(out.body["instructions"].is_string());
      }
    }
  }
}

TEST_CASE("a translated chat request normalizes into a valid backend request", "[unit][edge][v1]") {
  const auto cases = json_fixture("chat_requests.json");
  for (const auto& c : cases) {
    if (c.contains("error")) {
      continue;
    }
    chat_translation chat;
    REQUIRE_FALSE(chat_to_responses(c["request"], chat));
    normalized_request normalized;
    auto error = normalize_responses_request(chat.responses, normalized);
    INFO(c["name"].get<std::string>() << ": " << (error ? error->message : std::string{}));
    REQUIRE_FALSE(error);
    CHECK_FALSE(normalized.body.contains("max_output_tokens"));
    CHECK_FALSE(normalized.body.contains("temperature"));
    for (const auto& item : normalized.body["input"]) {
      CHECK(item.value("role", std::string{}) != "system");
      CHECK(item.value("role", std::string{}) != "developer");
    }
  }
}

TEST_CASE("non-object bodies are invalid requests", "[unit][edge][v1]") {
  chat_translation chat;
  normalized_request normalized;
  for (const auto& body : {json::array(), json("text"), json(nullptr)}) {
    auto chat_error = chat_to_responses(body, chat);
    REQUIRE(chat_error);
    CHECK(chat_error->code == errc::invalid_request);
    auto responses_error = normalize_responses_request(body, normalized);
    REQUIRE(responses_error);
    CHECK(responses_error->code == errc::invalid_request);
  }
}

TEST_CASE("requests recorded from the openai and AI SDKs translate without loss",
          "[unit][edge][v1]") {
  const auto name =
    GENERATE(as<std::string>{}, "openai_chat_stream_tools", "openai_responses", "ai_sdk_chat_tools",
             "ai_sdk_chat_stream", "ai_sdk_responses_tools", "ai_sdk_responses_stream");
  INFO(name);
  const auto recorded = json_fixture("sdk_requests/" + name + ".json");
  const auto& body = recorded["body"];
  json responses = body;
  bool wants_stream = body.value("stream", false);
  if (recorded["path"] == "/v1/chat/completions") {
    chat_translation chat;
    auto error = chat_to_responses(body, chat);
    INFO((error ? error->message : std::string{}));
    REQUIRE_FALSE(error);
    CHECK(chat.stream == wants_stream);
    CHECK(chat.include_usage == (wants_stream && body.contains("stream_options")));
    responses = chat.responses;
  }
  normalized_request normalized;
  auto error = normalize_responses_request(responses, normalized);
  INFO((error ? error->message : std::string{}));
  REQUIRE_FALSE(error);
  CHECK(normalized.client_stream == wants_stream);
  const auto& sent = normalized.body;
  CHECK(sent["stream"] == true);
  CHECK(sent["store"] == false);
  CHECK(sent["model"] == "gpt-5.5");
  // System prompts travel as instructions; nothing of the conversation is lost.
  const auto dump = body.dump();
  if (dump.find("\"sys\"") != std::string::npos) {
    CHECK(sent["instructions"] == "sys");
  }
  size_t conversation_items = 0;
  for (const auto& item : sent["input"]) {
    CHECK(item.value("role", std::string{}) != "system");
    CHECK(item.value("role", std::string{}) != "developer");
    ++conversation_items;
  }
  CHECK(conversation_items >= 1);
  for (const auto& tool : sent.value("tools", json::array())) {
    CHECK(tool["type"] == "function");
    CHECK(tool["name"] == "get_weather");
    CHECK(tool["parameters"]["type"] == "object");
  }
  if (dump.find("call_1") != std::string::npos) {
    std::vector<std::string> types;
    for (const auto& item : sent["input"]) {
      types.push_back(item.value("type", std::string{}));
    }
    CHECK(std::count(types.begin(), types.end(), "function_call") == 1);
    CHECK(std::count(types.begin(), types.end(), "function_call_output") == 1);
  }
}
