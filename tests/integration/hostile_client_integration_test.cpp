// Issue #13's findings replayed against a real gateway process: each hostile request gets its
// exact status, and the node still serves the next ordinary request on every route family.
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include "tests/support/pooler_fixture.hpp"
#include "tests/support/raw_socket.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

std::map<std::string, std::string> bearer(const pooler_fixture& pooler) {
  return {{"authorization", "Bearer " + pooler.api_key()}, {"content-type", "application/json"}};
}

json error_of(const test::http_result& result) {
  auto body = json::parse(result.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"] : json{};
}

/// Every route family still answers: liveness, readiness, metrics, the operator API and a turn.
void require_node_serves(pooler_fixture& pooler) {
  const auto port = pooler.gateway().port();
  CHECK(test::http_get(port, "/healthz").status == 200);
  CHECK(test::http_get(port, "/readyz").status == 200);
  CHECK(test::http_get(port, "/metrics").status == 200);
  CHECK(test::http_get(port, "/bootstrap/status").status == 200);
  CHECK(pooler.turn().status == 200);
}

std::string nested(const std::string& open, const std::string& close, size_t depth) {
  std::string text;
  text.reserve(depth * (open.size() + close.size()));
  for (size_t i = 0; i < depth; ++i) {
    text += open;
  }
  for (size_t i = 0; i < depth; ++i) {
    text += close;
  }
  return text;
}

long rss_kib(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

} // namespace

TEST_CASE("a wrong-typed stream field is a 400 naming it and the node keeps serving",
          "[integration][hostile]") {
  pooler_fixture pooler{{}};
  const auto port = pooler.gateway().port();
  for (const auto* path : {"/backend-api/codex/responses", "/v1/responses"}) {
    for (const auto* value : {R"("yes")", "5", "[]", "{}"}) {
      CAPTURE(path, value);
      const std::string body =
        std::string{R"({"model":"gpt-5.5","input":"hi","stream":)"} + value + "}";
      auto answer = test::http_request(port, "POST", path, body, bearer(pooler));
      CHECK(answer.status == 400);
      CHECK(error_of(answer)["param"] == "stream");
    }
  }
  auto chat = test::http_request(
    port, "POST", "/v1/chat/completions",
    R"({"model":"gpt-5.5","stream":null,"messages":[{"role":"user","content":"hi"}]})",
    bearer(pooler));
  CHECK(chat.status == 200);
  auto typed_deep = test::http_request(
    port, "POST", "/v1/chat/completions",
    R"({"model":"gpt-5.5","messages":[{"role":"user","content":[{"type":5}]}]})", bearer(pooler));
  CHECK(typed_deep.status == 400);
  require_node_serves(pooler);
}

TEST_CASE("100000 levels of nesting are refused before any walk", "[integration][hostile]") {
  pooler_fixture pooler{{}};
  const auto port = pooler.gateway().port();
  const auto deep_array = nested("[", "]", 100'000);
  const auto deep_object = nested(R"({"a":)", "}", 100'000);
  const std::vector<std::pair<std::string, std::string>> attempts = {
    {"/v1/responses", R"({"model":"gpt-5.5","input":)" + deep_array + "}"},
    {"/v1/responses", R"({"model":"gpt-5.5","input":"hi","tools":[{"type":"function","name":"f",)"
                      R"("parameters":)"
                        + deep_object + "}]}"},
    {"/v1/responses", R"({"model":"gpt-5.5","input":"hi","text":{"format":{"type":"json_schema",)"
                      R"("name":"s","schema":)"
                        + deep_object + "}}}"},
    {"/v1/chat/completions", R"({"model":"gpt-5.5","messages":)" + deep_array + "}"},
    {"/backend-api/codex/responses", R"({"model":"gpt-5.5","input":)" + deep_array + "}"},
  };
  for (const auto& [path, body] : attempts) {
    CAPTURE(path);
    auto answer = test::http_request(port, "POST", path, body, bearer(pooler));
    CHECK(answer.status == 400);
    CHECK(error_of(answer)["message"] == "JSON nested deeper than 128 levels");
  }
  auto admin = test::http_request(port, "POST", "/admin/api/session", deep_array,
                                  {{"content-type", "application/json"}});
  CHECK(admin.status >= 400);
  CHECK(admin.status < 500);
  require_node_serves(pooler);
}

TEST_CASE("withheld unauthenticated bodies cost no memory", "[integration][hostile]") {
  pooler_fixture pooler{{}};
  const auto port = pooler.gateway().port();
  const auto before = rss_kib(pooler.gateway().pid());
  std::vector<std::unique_ptr<test::raw_socket>> attackers;
  for (int i = 0; i < 40; ++i) {
    auto socket = std::make_unique<test::raw_socket>(port);
    socket->write(
      "POST /admin/api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 32505856\r\n\r\n"
      + std::string(256u << 10, 'a'));
    CHECK(test::status_of(socket->read_response()) == 413);
    attackers.push_back(std::move(socket));
  }
  const auto after = rss_kib(pooler.gateway().pid());
  INFO("RSS before " << before << " KiB, after " << after << " KiB");
  CHECK(after - before < 32 * 1024);
  attackers.clear();
  require_node_serves(pooler);
}

TEST_CASE("ambiguous framing is refused and the connection closed", "[integration][hostile]") {
  pooler_fixture pooler{{}};
  const auto port = pooler.gateway().port();
  const std::vector<std::string> smuggles = {
    "POST /v1/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
    "Content-Length: 5\r\n\r\nhello",
    "POST /v1/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    "Content-Length: 5\r\n\r\n0\r\n\r\n",
    "POST /v1/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
    "0\r\n\r\n",
    "POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
    "hello!",
    "POST /v1/responses HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  };
  for (const auto& request : smuggles) {
    CAPTURE(request);
    test::raw_socket socket{port};
    socket.write(request + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    auto response = socket.read_until_closed();
    CHECK(test::status_of(response) == 400);
    // The smuggled second request is never answered: the connection closed after the 400.
    CHECK(response.find("HTTP/1.1", 8) == std::string::npos);
  }
  test::raw_socket big_head{port};
  big_head.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(80u << 10, 'a')
                 + "\r\n\r\n");
  CHECK(test::status_of(big_head.read_response()) == 431);
  require_node_serves(pooler);
}

TEST_CASE("the SQLite database and its WAL are private to the service user",
          "[integration][hostile]") {
  pooler_fixture::options options;
  options.database = test::backend::sqlite;
  pooler_fixture pooler{options};
  REQUIRE(pooler.turn().status == 200);
  const auto url = pooler.database().url();
  const auto path = url.substr(std::string{"sqlite://"}.size());
  for (const auto* suffix : {"", "-wal", "-shm"}) {
    struct stat info {};
    CAPTURE(suffix);
    REQUIRE(::stat((path + suffix).c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
  }
}

TEST_CASE("the session cookie is Secure only when a trusted proxy says the client used TLS",
          "[integration][hostile]") {
  pooler_fixture::options options;
  options.settings = {R"(ingress.trusted_proxies=["127.0.0.1"])"};
  pooler_fixture pooler{options};
  const auto port = pooler.gateway().port();
  auto plain = test::http_get(port, "/bootstrap/status");
  REQUIRE(plain.headers.count("set-cookie"));
  CHECK(plain.headers["set-cookie"].find("Secure") == std::string::npos);
  auto over_tls = test::http_get(port, "/bootstrap/status", {{"x-forwarded-proto", "https"}});
  REQUIRE(over_tls.headers.count("set-cookie"));
  CHECK(over_tls.headers["set-cookie"].find("; Secure") != std::string::npos);
}
