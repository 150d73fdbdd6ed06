// The ingress chain against a real gateway process: forwarded client addresses, the firewall
// (HTTP, websocket, /mcp, and open websockets when the allowlist changes), body limits per route
// class, compressed bodies and the per-address connection cap.
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <zlib.h>

#include "tests/support/pooler_fixture.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/ws_client.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

std::string gzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY)
          == Z_OK);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::map<std::string, std::string> bearer(const pooler_fixture& pooler,
                                          std::map<std::string, std::string> more = {}) {
  more["authorization"] = "Bearer " + pooler.api_key();
  return more;
}

std::string error_code(const test::http_result& result) {
  auto body = json::parse(result.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
}

pooler_fixture::options with_settings(std::vector<std::string> settings) {
  pooler_fixture::options options;
  options.accounts = 1;
  options.settings = std::move(settings);
  options.gateway_env = {{"CODEX_POOLER_SETTINGS_POLL_MS", "200"}};
  return options;
}

} // namespace

TEST_CASE("a forwarded client address counts only behind a trusted proxy",
          "[integration][ingress]") {
  SECTION("trusted: the first untrusted hop from the right is the client") {
    pooler_fixture pooler{
      with_settings({R"(ingress.trusted_proxies=["127.0.0.1","10.9.0.0/16"])"})};
    REQUIRE(pooler.turn({{"x-forwarded-for", "203.0.113.7, 198.51.100.2, 10.9.3.4"}}).status
            == 200);
    auto logs = pooler.request_logs(1);
    REQUIRE(logs.size() >= 1);
    CHECK(logs[0]["client_ip"] == "198.51.100.2");
  }
  SECTION("untrusted: the header is ignored and the peer is the client") {
    pooler_fixture pooler{with_settings({})};
    REQUIRE(pooler.turn({{"x-forwarded-for", "198.51.100.2"}}).status == 200);
    auto logs = pooler.request_logs(1);
    REQUIRE(logs.size() >= 1);
    CHECK(logs[0]["client_ip"] == "127.0.0.1");
  }
  SECTION("the Forwarded header when configured") {
    pooler_fixture pooler{with_settings({R"(ingress.trusted_proxies=["127.0.0.1"])",
                                         R"(ingress.forwarded_client_ip_source="forwarded")"})};
    REQUIRE(pooler.turn({{"forwarded", "for=\"[2001:db8::7]:4711\";proto=https"}}).status == 200);
    auto logs = pooler.request_logs(1);
    REQUIRE(logs.size() >= 1);
    CHECK(logs[0]["client_ip"] == "2001:db8::7");
  }
}

TEST_CASE("the firewall allowlist guards the runtime routes, websockets and /mcp",
          "[integration][ingress]") {
  pooler_fixture pooler{with_settings(
    {R"(ingress.trusted_proxies=["127.0.0.1"])", R"(ingress.firewall_allowlist=["10.0.0.0/8"])"})};
  const auto port = pooler.gateway().port();

  auto denied = pooler.turn();
  CHECK(denied.status == 403);
  CHECK(error_code(denied) == "client_address_not_allowed");
  CHECK(pooler.turn({{"x-forwarded-for", "10.1.2.3"}}).status == 200);
  CHECK(test::http_get(port, "/v1/models", bearer(pooler)).status == 403);
  CHECK(test::http_get(port, "/v1/models", bearer(pooler, {{"x-forwarded-for", "10.1.2.3"}})).status
        == 200);

  CHECK(test::http_request(port, "POST", "/mcp", "{}").status == 403);
  CHECK(test::http_request(port, "POST", "/mcp", "{}", {{"x-forwarded-for", "10.1.2.3"}}).status
        != 403);

  // Operators are never locked out of the API that edits the allowlist.
  CHECK(test::http_get(port, "/bootstrap/status").status == 200);
  CHECK(test::http_get(port, "/healthz").status == 200);

  test::ws_client refused{port, pooler.api_key(), {}};
  CHECK(refused.status == 403);
  test::ws_client admitted{port, pooler.api_key(), {{"x-forwarded-for", "10.1.2.3"}}};
  CHECK(admitted.status == 101);
}

TEST_CASE("an allowlist entry that does not parse fails closed", "[integration][ingress]") {
  pooler_fixture pooler{with_settings({R"(ingress.firewall_allowlist=["10.0.0.0/33"])"})};
  CHECK(pooler.turn().status == 403);
  CHECK(test::http_get(pooler.gateway().port(), "/healthz").status == 200);
}

TEST_CASE("open websockets are closed when the allowlist stops admitting them",
          "[integration][ingress]") {
  pooler_fixture pooler{with_settings({})};
  test::ws_client socket{pooler.gateway().port(), pooler.api_key(), {}};
  REQUIRE(socket.status == 101);
  auto changed = test::run_gateway_command(
    pooler.env(), {"admin", "settings", "set", R"(ingress.firewall_allowlist=["10.0.0.0/8"])"});
  REQUIRE(changed.exit_code == 0);
  std::optional<std::string> frame;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while ((frame = socket.read()) && std::chrono::steady_clock::now() < give_up) {
  }
  CHECK_FALSE(frame);
  CHECK(socket.close_code == 1008);
}

TEST_CASE("body limits apply per route class before the body is read", "[integration][ingress]") {
  pooler_fixture pooler{with_settings({"ingress.max_body_bytes=4096"})};
  const auto port = pooler.gateway().port();

  SECTION("login takes no more than the pre-authentication limit, judged on the head alone") {
    test::raw_socket socket{port};
    socket.write("POST /admin/api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 32505856\r\n\r\n{\"email\":");
    auto response = socket.read_response();
    CHECK(test::status_of(response) == 413);
    CHECK(response.find("payload_too_large") != std::string::npos);
    CHECK(socket.closed_by_peer());
  }
  SECTION("a chunked body is cut at the limit too") {
    test::raw_socket socket{port};
    socket.write("POST /admin/api/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "20000\r\n"
                 + std::string(0x20000, 'a') + "\r\n0\r\n\r\n");
    CHECK(test::status_of(socket.read_response()) == 413);
  }
  SECTION("admin routes take up to the admin limit") {
    test::raw_socket socket{port};
    socket.write(
      "PATCH /admin/api/settings HTTP/1.1\r\nHost: x\r\nContent-Length: 5242880\r\n\r\n");
    CHECK(test::status_of(socket.read_response()) == 413);
    auto small = test::http_request(port, "PATCH", "/admin/api/settings", "{}");
    CHECK(small.status != 413);
  }
  SECTION("runtime routes follow ingress.max_body_bytes") {
    CHECK(pooler.turn({}, std::string(8'000, 'x')).status == 413);
    CHECK(pooler.turn().status == 200);
  }
}

TEST_CASE("compressed request bodies are decoded within ratio and size limits",
          "[integration][ingress]") {
  pooler_fixture pooler{with_settings({})};
  const auto port = pooler.gateway().port();
  const auto body = test::user_turn_body("say hi", "gpt-5.5").dump();

  auto gzipped = test::http_request(
    port, "POST", "/backend-api/codex/responses", gzip(body),
    bearer(pooler, {{"content-type", "application/json"}, {"content-encoding", "gzip"}}));
  INFO(gzipped.body);
  CHECK(gzipped.status == 200);

  // 64 MiB of spaces around the JSON compress to ~64 KiB: a bomb, refused at 100:1.
  const auto bomb = gzip(body + std::string(64u << 20, ' '));
  auto exploded = test::http_request(
    port, "POST", "/backend-api/codex/responses", bomb,
    bearer(pooler, {{"content-type", "application/json"}, {"content-encoding", "gzip"}}));
  CHECK(exploded.status == 413);

  auto brotli = test::http_request(
    port, "POST", "/backend-api/codex/responses", body,
    bearer(pooler, {{"content-type", "application/json"}, {"content-encoding", "br"}}));
  CHECK(brotli.status == 415);
  CHECK(error_code(brotli) == "unsupported_content_encoding");

  auto corrupt = test::http_request(
    port, "POST", "/backend-api/codex/responses", "not gzip",
    bearer(pooler, {{"content-type", "application/json"}, {"content-encoding", "gzip"}}));
  CHECK(corrupt.status == 400);
  CHECK(pooler.turn().status == 200);
}

TEST_CASE("connections per peer address are capped", "[integration][ingress]") {
  pooler_fixture pooler{with_settings({"ingress.max_connections_per_ip=4"})};
  const auto port = pooler.gateway().port();
  std::vector<std::unique_ptr<test::raw_socket>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<test::raw_socket>(port));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  test::raw_socket fifth{port};
  auto refused = fifth.read_response();
  CHECK(test::status_of(refused) == 429);
  CHECK(refused.find("rate_limited") != std::string::npos);

  idle.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  CHECK(test::http_get(port, "/healthz").status == 200);
}
