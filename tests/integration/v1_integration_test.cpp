#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "persistence/request_logs/request_log_repository.hpp"
#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

pooler_fixture::options on(test::backend database, int accounts = 2) {
  pooler_fixture::options opts;
  opts.database = database;
  opts.accounts = accounts;
  return opts;
}

test::http_result v1(pooler_fixture& f, const std::string& method, const std::string& target,
                     const json& body = nullptr, std::map<std::string, std::string> headers = {}) {
  headers.emplace("authorization", "Bearer " + f.api_key());
  if (!body.is_null()) {
    headers.emplace("content-type", "application/json");
  }
  return test::http_request(f.gateway().port(), method, target,
                            body.is_null() ? std::string{} : body.dump(), headers);
}

json chat(const std::string& text, bool stream = false) {
  json body = {{"model", "gpt-5.5"}, {"messages", {{{"role", "user"}, {"content", text}}}}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

/// The error object of an OpenAI error envelope (fails the test when the body is not one).
json error_of(const test::http_result& answer) {
  auto body = json::parse(answer.body, nullptr, false);
  INFO(answer.body);
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  for (const char* field : {"message", "type", "code", "param"}) {
    CHECK(body["error"].contains(field));
  }
  return body["error"];
}

void set_pool_flag(pooler_fixture& f, const std::string& column, bool value) {
  const int flag = value ? 1 : 0;
  auto done = f.database().db().run([&](soci::session& sql) {
    sql << "UPDATE pools SET " + column + " = :flag WHERE id = :id", soci::use(flag),
      soci::use(f.pool_id());
  });
  REQUIRE(done);
}

/// The newest `count` request logs once they are written (bounded wait), newest first.
std::vector<persistence::request_log_row> logs_of(pooler_fixture& f, size_t count) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < give_up) {
    auto logs = persistence::request_log_repository{f.database().db()}.recent(100);
    if (logs && logs->size() >= count) {
      return *logs;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  FAIL("request logs did not arrive");
  return {};
}

} // namespace

TEST_CASE("/v1 chat and responses run on the Codex path and are logged under their route",
          "[integration][v1]") {
  const auto kind = GENERATE(test::backend::postgres, test::backend::sqlite);
  pooler_fixture f{on(kind)};
  auto completion = v1(f, "POST", "/v1/chat/completions", chat("say hi"));
  INFO(completion.body);
  REQUIRE(completion.status == 200);
  auto body = json::parse(completion.body);
  CHECK(body["object"] == "chat.completion");
  CHECK(body["choices"][0]["message"]["content"].get<std::string>().rfind("hello from acct-", 0)
        == 0);
  CHECK(body["usage"]["total_tokens"] == 13);

  auto streamed =
    v1(f, "POST", "/v1/responses", {{"model", "gpt-5.5"}, {"input", "say hi"}, {"stream", true}});
  REQUIRE(streamed.status == 200);
  CHECK(streamed.headers["content-type"].find("text/event-stream") != std::string::npos);
  CHECK(streamed.body.find("codex.rate_limits") == std::string::npos);
  CHECK(streamed.body.find("event: response.completed") != std::string::npos);

  auto native = v1(f, "POST", "/backend-api/codex/v1/chat/completions", chat("say hi", true));
  REQUIRE(native.status == 200);
  CHECK(native.body.find("\"object\":\"chat.completion.chunk\"") != std::string::npos);
  CHECK(native.body.find("\"usage\":{") != std::string::npos);
  CHECK(native.body.substr(native.body.size() - 14) == "data: [DONE]\n\n");

  const auto logs = logs_of(f, 3);
  std::set<std::string> routes;
  for (const auto& log : logs) {
    routes.insert(log.route);
    CHECK(log.status_code == 200);
    CHECK(log.input_tokens == std::optional<int64_t>{10});
    CHECK(log.api_key_id.has_value());
  }
  CHECK(routes
        == std::set<std::string>{"/v1/chat/completions", "/v1/responses",
                                 "/backend-api/codex/v1/chat/completions"});

  auto usage = v1(f, "GET", "/v1/usage");
  REQUIRE(usage.status == 200);
  auto totals = json::parse(usage.body);
  CHECK(totals["request_count"] == 3);
  CHECK(totals["total_tokens"] == 39);
  CHECK(totals["cached_input_tokens"] == 6);
  CHECK(totals["total_cost_micros"] == 3 * 131); // gpt-5.5 at the built-in snapshot's prices
  CHECK(totals["total_cost_status"] == "priced");
  CHECK(totals["upstream_limits"].size() == 2);
}

TEST_CASE("/v1 fails over before the first byte like the Codex route", "[integration][v1]") {
  const bool stream = GENERATE(false, true);
  INFO("stream " << stream);
  pooler_fixture f{on(test::backend::postgres, 3)};
  f.script("acct-1", [](auto& s) { s.status_5xx = 500; });
  f.script("acct-2", [](auto& s) { s.response_failed_first = true; });
  for (int i = 0; i < 8; ++i) {
    auto answer =
      v1(f, "POST", "/v1/chat/completions", chat("say hi " + std::to_string(i), stream));
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    CHECK(answer.body.find("hello from acct-3") != std::string::npos);
    CHECK(answer.body.find("error") == std::string::npos);
  }
  // Eight requests with random ring orders: the failing accounts were tried (and skipped).
  CHECK(f.upstream().counters("acct-1").turn_requests
          + f.upstream().counters("acct-2").turn_requests
        >= 1);
  CHECK(f.upstream().counters("acct-3").turns_served == 8);
}

TEST_CASE("an exhausted pool answers /v1 with an OpenAI-shaped 429", "[integration][v1]") {
  pooler_fixture f{on(test::backend::postgres)};
  f.script("acct-1", [](auto& s) { s.usage_limit_after = 0; });
  f.script("acct-2", [](auto& s) { s.usage_limit_after = 0; });
  for (const bool stream : {false, true, false}) {
    auto answer = v1(f, "POST", "/v1/chat/completions", chat("say hi", stream));
    CHECK(answer.status == 429);
    const auto error = error_of(answer);
    CHECK(error["type"] == "rate_limit_error");
    CHECK(error["code"] == "usage_limit_reached");
    CHECK(error["resets_at"].is_number_integer());
  }
}

TEST_CASE("the pool switches gate /v1 and images", "[integration][v1]") {
  pooler_fixture f{on(test::backend::postgres)};
  SECTION("v1 compatibility off") {
    set_pool_flag(f, "v1_compatibility_enabled", false);
    for (const auto& [method, target] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/models"},
                                                          {"POST", "/v1/chat/completions"},
                                                          {"POST", "/v1/responses"},
                                                          {"GET", "/v1/usage"},
                                                          {"GET", "/v1/files"}}) {
      INFO(method << " " << target);
      auto answer = v1(f, method, target, method == "POST" ? chat("x") : json(nullptr));
      CHECK(answer.status == 403);
      CHECK(error_of(answer)["code"] == "v1_compatibility_disabled");
    }
    // The Codex surface stays available.
    CHECK(f.turn().status == 200);
  }
  SECTION("image generation off") {
    set_pool_flag(f, "allow_image_generation", false);
    auto answer =
      v1(f, "POST", "/v1/images/generations", {{"model", "gpt-image-1"}, {"prompt", "x"}});
    CHECK(answer.status == 403);
    CHECK(error_of(answer)["code"] == "image_generation_disabled");
    auto native = v1(f, "POST", "/backend-api/codex/images/generations", {{"prompt", "x"}});
    CHECK(native.status == 403);
    CHECK(v1(f, "POST", "/v1/chat/completions", chat("x")).status == 200);
  }
}

TEST_CASE("bad /v1 input answers stable JSON errors", "[integration][v1]") {
  pooler_fixture f{on(test::backend::postgres)};
  const auto port = f.gateway().port();
  auto no_key = test::http_request(port, "POST", "/v1/chat/completions", chat("x").dump(),
                                   {{"content-type", "application/json"}});
  CHECK(no_key.status == 401);
  CHECK(error_of(no_key)["code"] == "api_key_missing");
  auto bad_json = test::http_request(port, "POST", "/v1/chat/completions", "{not json",
                                     {{"authorization", "Bearer " + f.api_key()}});
  CHECK(bad_json.status == 400);
  CHECK(error_of(bad_json)["code"] == "invalid_request");
  auto seed =
    v1(f, "POST", "/v1/chat/completions",
       {{"model", "gpt-5.5"}, {"messages", {{{"role", "user"}, {"content", "x"}}}}, {"seed", 1}});
  CHECK(seed.status == 400);
  CHECK(error_of(seed)["param"] == "seed");
  auto previous = v1(f, "POST", "/v1/responses",
                     {{"model", "gpt-5.5"}, {"input", "x"}, {"previous_response_id", "resp_1"}});
  CHECK(previous.status == 400);
  CHECK(error_of(previous)["code"] == "unsupported_parameter");
  auto not_multipart = v1(f, "POST", "/v1/files", {{"file", "x"}});
  CHECK(not_multipart.status == 400);
  // Nothing of the refused requests went upstream.
  for (const auto& request : f.upstream().recorded()) {
    CHECK(request.target.find("/codex/responses") == std::string::npos);
  }
}

TEST_CASE("unsupported OpenAI endpoints answer unsupported_endpoint, never HTML or a hang",
          "[integration][v1]") {
  pooler_fixture f{on(test::backend::sqlite)};
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/embeddings"},
                                                        {"POST", "/v1/moderations"},
                                                        {"POST", "/v1/batches"},
                                                        {"POST", "/v1/fine_tuning/jobs"},
                                                        {"GET", "/v1/responses/resp_123"},
                                                        {"POST", "/v1/responses/resp_123/cancel"},
                                                        {"DELETE", "/v1/responses/resp_123"},
                                                        {"POST", "/v1/responses/compact"},
                                                        {"POST", "/v1/images/variations"},
                                                        {"POST", "/v1/completions"}}) {
    INFO(method << " " << target);
    auto answer = v1(f, method, target, method == "POST" ? json{{"model", "x"}} : json(nullptr));
    CHECK(answer.status == 404);
    CHECK(answer.headers["content-type"].find("application/json") != std::string::npos);
    CHECK(error_of(answer)["code"] == "unsupported_endpoint");
  }
}

TEST_CASE("files, transcription and images never leave bytes or prompts in the database",
          "[integration][v1]") {
  pooler_fixture f{on(test::backend::postgres)};
  const std::string boundary = "cxp-test-boundary";
  const std::string secret_bytes = "FILE-BYTES-THAT-MUST-NOT-BE-STORED";
  auto multipart = [&](const std::string& field, const std::string& filename,
                       const std::string& extra) {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field
           + "\"; filename=\"" + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"
           + secret_bytes + "\r\n" + extra + "--" + boundary + "--\r\n";
  };
  std::map<std::string, std::string> form = {
    {"content-type", "multipart/form-data; boundary=" + boundary}};
  form.emplace("authorization", "Bearer " + f.api_key());
  const auto purpose =
    "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nuser_data\r\n";
  auto file = test::http_request(f.gateway().port(), "POST", "/v1/files",
                                 multipart("file", "n.txt", purpose), form);
  INFO(file.body);
  REQUIRE(file.status == 200);
  const auto file_id = json::parse(file.body)["id"].get<std::string>();
  CHECK(json::parse(file.body)["bytes"] == secret_bytes.size());

  auto transcript = test::http_request(f.gateway().port(), "POST", "/v1/audio/transcriptions",
                                       multipart("file", "a.wav", ""), form);
  REQUIRE(transcript.status == 200);
  CHECK(json::parse(transcript.body)["text"]
        == "transcript of a.wav (" + std::to_string(secret_bytes.size())
             + " bytes, model gpt-4o-transcribe)");

  auto image = v1(f, "POST", "/v1/images/generations",
                  {{"prompt", "SECRET-IMAGE-PROMPT"}, {"model", "gpt-image-1"}});
  REQUIRE(image.status == 200);
  CHECK(json::parse(image.body)["data"][0]["b64_json"].get<std::string>().size() > 20);

  json content = json::array({{{"type", "input_text"}, {"text", "SECRET-PROMPT"}},
                              {{"type", "input_file"}, {"file_id", file_id}}});
  json input = json::array({{{"role", "user"}, {"content", content}}});
  auto with_file = v1(f, "POST", "/v1/responses", {{"model", "gpt-5.5"}, {"input", input}});
  REQUIRE(with_file.status == 200);

  logs_of(f, 5);
  const auto dump = f.dump_database();
  CHECK(dump.find(secret_bytes) == std::string::npos);
  CHECK(dump.find("SECRET-PROMPT") == std::string::npos);
  CHECK(dump.find("SECRET-IMAGE-PROMPT") == std::string::npos);
  CHECK(dump.find(f.api_key()) == std::string::npos);
}

TEST_CASE("the native files, transcribe and images routes proxy with file pinning",
          "[integration][v1]") {
  pooler_fixture f{on(test::backend::postgres, 3)};
  for (int i = 0; i < 3; ++i) {
    auto created = v1(f, "POST", "/backend-api/files",
                      {{"file_name", "a.png"}, {"file_size", 4}, {"use_case", "codex"}});
    INFO(created.body);
    REQUIRE(created.status == 200);
    const auto file = json::parse(created.body);
    const auto id = file["file_id"].get<std::string>();
    const auto url = file["upload_url"].get<std::string>();
    // The client PUTs the bytes to the upload URL itself (here: on the fake).
    const auto path = url.substr(url.find("/__blob/"));
    auto put = test::http_request(f.upstream().port(), "PUT", path, "abcd", {});
    REQUIRE(put.status == 201);
    // The fake finalizes only for the account that created the file: success proves the pin.
    auto finalized = v1(f, "POST", "/backend-api/files/" + id + "/uploaded", json::object());
    INFO(finalized.body);
    REQUIRE(finalized.status == 200);
    CHECK(json::parse(finalized.body)["status"] == "success");
  }
  auto bad_id = v1(f, "POST", "/backend-api/files/..%2Fetc/uploaded", json::object());
  CHECK(bad_id.status == 400);

  const std::string boundary = "b0undary";
  auto transcribed = test::http_request(
    f.gateway().port(), "POST", "/backend-api/transcribe",
    "--" + boundary
      + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.wav\"\r\n\r\nRIFF\r\n--"
      + boundary + "--\r\n",
    {{"authorization", "Bearer " + f.api_key()},
     {"content-type", "multipart/form-data; boundary=" + boundary}});
  INFO(transcribed.body);
  REQUIRE(transcribed.status == 200);
  CHECK(json::parse(transcribed.body)["text"] == "transcript of x.wav (4 bytes, model none)");

  auto image = v1(f, "POST", "/backend-api/codex/images/generations", {{"prompt", "x"}});
  REQUIRE(image.status == 200);
  CHECK(json::parse(image.body)["data"].size() == 1);
}
