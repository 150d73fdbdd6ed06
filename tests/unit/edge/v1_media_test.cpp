#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edge/routes/v1/file_registry.hpp"
#include "edge/routes/v1/images.hpp"
#include "edge/routes/v1/models_document.hpp"
#include "edge/routes/v1/multipart.hpp"
#include "edge/routes/v1/v1_adapter.hpp"
#include "tests/unit/edge/v1_fixtures.hpp"

using namespace cxp;
using namespace cxp::edge;
using namespace cxp::edge::v1;
using nlohmann::json;
using test::v1::read_fixture;

TEST_CASE("multipart bodies from the openai SDK parse into their parts", "[unit][edge][v1]") {
  const auto body = read_fixture("openai_sdk_transcription.multipart");
  const std::string type = "multipart/form-data; boundary=----formdata-undici-0123456789";
  auto parts = parse_multipart(type, body);
  REQUIRE(parts);
  REQUIRE(parts->size() == 3);
  const auto* file = find_part(*parts, "file");
  REQUIRE(file != nullptr);
  CHECK(file->filename == "hello.wav");
  CHECK(file->content_type == "audio/wav");
  CHECK(file->data == "RIFF\r\nfake-wav-bytes\r\n--not-a-boundary");
  CHECK(find_part(*parts, "model")->data == "whisper-1");
  CHECK(find_part(*parts, "language")->data == "en");
  SECTION("a rebuilt body parses back to the same parts") {
    auto again =
      parse_multipart("multipart/form-data; boundary=\"cxp-b\"", build_multipart(*parts, "cxp-b"));
    REQUIRE(again);
    REQUIRE(again->size() == 3);
    CHECK((*again)[0].data == file->data);
    CHECK((*again)[0].filename == "hello.wav");
  }
  SECTION("malformed bodies are refused") {
    CHECK_FALSE(parse_multipart("application/json", body));
    CHECK_FALSE(parse_multipart(type, body.substr(0, body.size() / 2)));
    CHECK_FALSE(parse_multipart(type, "no delimiter at all"));
  }
}

TEST_CASE("image generation requests become one image_generation tool call", "[unit][edge][v1]") {
  image_options options;
  REQUIRE_FALSE(image_generation_options(
    {{"model", "gpt-image-1"}, {"prompt", "a red square"}, {"size", "1024x1024"}, {"n", 1}},
    options));
  const auto request = image_responses_request(options, "gpt-5.5", {}, false);
  CHECK(request["model"] == "gpt-5.5");
  CHECK(request["tools"]
        == json::array({{{"type", "image_generation"},
                         {"model", "gpt-image-1"},
                         {"size", "1024x1024"},
                         {"quality", "auto"}}}));
  CHECK(request["tool_choice"] == json{{"type", "image_generation"}});
  CHECK(request["input"][0]["content"][0]["text"] == "a red square");
  SECTION("unsupported options are refused") {
    image_options other;
    auto n = image_generation_options({{"prompt", "x"}, {"n", 2}}, other);
    REQUIRE(n);
    CHECK(n->param == std::optional<std::string>{"n"});
    auto url = image_generation_options({{"prompt", "x"}, {"response_format", "url"}}, other);
    REQUIRE(url);
    CHECK(url->code == errc::unsupported_parameter);
    auto stream = image_generation_options({{"prompt", "x"}, {"stream", true}}, other);
    REQUIRE(stream);
    CHECK(stream->param == std::optional<std::string>{"stream"});
    auto missing = image_generation_options({{"size", "auto"}}, other);
    REQUIRE(missing);
    CHECK(missing->param == std::optional<std::string>{"prompt"});
  }
}

TEST_CASE("image edits send the images as data URLs with the mask last", "[unit][edge][v1]") {
  std::vector<form_part> parts = {{"image[]", "a.png", "image/png", "AAA"},
                                  {"mask", "m.png", "image/png", "MMM"},
                                  {"image[]", "b.png", "image/webp", "BBB"},
                                  {"prompt", "", "", "make it blue"},
                                  {"quality", "", "", "high"}};
  image_options options;
  std::vector<std::string> images;
  bool has_mask = false;
  REQUIRE_FALSE(image_edit_options(parts, options, images, has_mask));
  CHECK(has_mask);
  CHECK(images
        == std::vector<std::string>{"data:image/png;base64,QUFB", "data:image/webp;base64,QkJC",
                                    "data:image/png;base64,TU1N"});
  const auto request = image_responses_request(options, "gpt-5.5", images, has_mask);
  const auto& content = request["input"][0]["content"];
  REQUIRE(content.size() == 5);
  CHECK(content[0]["text"] == "make it blue");
  CHECK(content[3]["image_url"] == "data:image/png;base64,TU1N");
  CHECK(content[4]["text"].get<std::string>().find("mask") != std::string::npos);
  CHECK(request["tools"][0]["quality"] == "high");
  std::vector<std::string> none;
  image_options no_image;
  CHECK(image_edit_options({{"prompt", "", "", "x"}}, no_image, none, has_mask)->param
        == std::optional<std::string>{"image"});
}

TEST_CASE("/v1/models flattens the pool catalog with effective context lengths",
          "[unit][edge][v1]") {
  json catalog = {{"models",
                   {{{"slug", "gpt-5.5"},
                     {"display_name", "GPT-5.5"},
                     {"context_window", 272000},
                     {"supported_reasoning_levels", {{{"effort", "low"}}}}},
                    {{"slug", "big"},
                     {"context_window", 872000},
                     {"effective_context_window_percent", 95},
                     {"input_modalities", {"text"}}},
                    {{"slug", "plain"}, {"supported_reasoning_levels", json::array()}},
                    {{"display_name", "no slug"}}}}};
  const auto document = models_document(catalog, 42);
  CHECK(document["object"] == "list");
  REQUIRE(document["data"].size() == 3);
  const auto& first = document["data"][0];
  CHECK(first
        == json{{"id", "gpt-5.5"},
                {"object", "model"},
                {"created", 42},
                {"owned_by", "codex-pooler"},
                {"permission", json::array()},
                {"input_modalities", {"text", "image"}},
                {"display_name", "GPT-5.5"},
                {"supports_streaming", true},
                {"supports_tools", true},
                {"supports_reasoning", true},
                {"context_length", 258400}});
  CHECK(document["data"][1]["context_length"] == 828400);
  CHECK(document["data"][1]["input_modalities"] == json{"text"});
  CHECK_FALSE(document["data"][2].contains("context_length"));
  CHECK(document["data"][2]["supports_reasoning"] == false);
}

TEST_CASE("the file registry keeps metadata per pool and forgets expired entries",
          "[unit][edge][v1]") {
  file_registry files{std::chrono::seconds{3600}};
  files.put({"file_1", "pool-a", "key-1", "hash-1", "a.txt", "user_data", 12, 100});
  files.put({"file_2", "pool-a", "key-1", "hash-2", "b.txt", "assistants", 34, 200});
  files.put({"file_3", "pool-b", "key-2", "hash-3", "c.txt", "user_data", 56, 300});
  CHECK(files.find("file_1", "pool-a")->session_key_hash == "hash-1");
  CHECK_FALSE(files.find("file_1", "pool-b")); // another pool never sees it
  const auto listed = files.list("pool-a");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == "file_2"); // newest first
  CHECK(to_openai_file(listed[1])
        == json{{"id", "file_1"},
                {"object", "file"},
                {"bytes", 12},
                {"created_at", 100},
                {"filename", "a.txt"},
                {"purpose", "user_data"},
                {"status", "processed"},
                {"status_details", nullptr}});
  file_registry expired{std::chrono::seconds{0}};
  expired.put({"file_9", "pool-a", "key-1", "hash", "x", "user_data", 1, 1});
  CHECK_FALSE(expired.find("file_9", "pool-a"));
  CHECK(expired.list("pool-a").empty());
}

TEST_CASE("file ids are found in input_file parts at any depth", "[unit][edge][v1]") {
  json body = {{"input",
                {{{"type", "message"},
                  {"role", "user"},
                  {"content",
                   {{{"type", "input_text"}, {"text", "file_0"}},
                    {{"type", "input_file"}, {"file_id", "file_a"}}}}},
                 {{"type", "input_file"}, {"file_id", "file_b"}}}}};
  CHECK(referenced_file_ids(body) == std::vector<std::string>{"file_a", "file_b"});
  CHECK(referenced_file_ids({{"input", "text only"}}).empty());
}

TEST_CASE("proxy errors become OpenAI error envelopes with their status", "[unit][edge][v1]") {
  auto answer = [](http::status status, std::string body) {
    http_response response{status, 11};
    response.body() = std::move(body);
    return response;
  };
  SECTION("a Codex usage limit is a rate_limit_error with its reset") {
    auto out = openai_error_reply(answer(
      http::status::too_many_requests,
      R"({"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1795500000,"resets_in_seconds":60}})"));
    CHECK(out.result() == http::status::too_many_requests);
    auto body = json::parse(out.body());
    CHECK(body["error"]["type"] == "rate_limit_error");
    CHECK(body["error"]["code"] == "usage_limit_reached");
    CHECK(body["error"]["resets_at"] == 1795500000);
    CHECK_FALSE(body["error"].contains("plan_type"));
  }
  SECTION("an upstream 400 keeps its vetted message, code and param") {
    auto out = openai_error_reply(answer(
      http::status::bad_request,
      R"({"error":{"message":"Unsupported parameter: foo","type":"invalid_request_error","param":"foo","code":"unsupported_parameter"}})"));
    auto body = json::parse(out.body());
    CHECK(body["error"]
          == json{{"message", "Unsupported parameter: foo"},
                  {"type", "invalid_request_error"},
                  {"code", "unsupported_parameter"},
                  {"param", "foo"}});
  }
  SECTION("provider text of a 5xx is replaced") {
    auto out = openai_error_reply(answer(
      http::status::bad_gateway,
      R"({"error":{"type":"server_error","code":"server_error","message":"stack trace at /srv/x"}})"));
    auto body = json::parse(out.body());
    CHECK(out.result() == http::status::bad_gateway);
    CHECK(body["error"]["message"] == "The upstream request failed.");
    CHECK(body["error"]["code"] == "server_error");
  }
  SECTION("a non-JSON body gets a generic error for its status") {
    auto out = openai_error_reply(answer(http::status::service_unavailable, "<html>busy</html>"));
    auto body = json::parse(out.body());
    CHECK(out.result() == http::status::service_unavailable);
    CHECK(body["error"]["type"] == "server_error");
    CHECK(body["error"]["code"] == "upstream_error");
    CHECK(out.body().find("html") == std::string::npos);
  }
}
