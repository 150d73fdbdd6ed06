#include "edge/routes/mcp/mcp_protocol.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using edge::mcp_message;
using edge::mcp_refusal;
using nlohmann::json;

namespace {

edge::mcp_http_request post(std::string body) {
  return {"", "application/json", "application/json, text/event-stream", "", std::move(body)};
}

mcp_refusal refused(const edge::mcp_http_request& request) {
  auto checked = edge::check_mcp_request(request);
  REQUIRE(std::holds_alternative<mcp_refusal>(checked));
  return std::get<mcp_refusal>(checked);
}

mcp_message accepted(const edge::mcp_http_request& request) {
  auto checked = edge::check_mcp_request(request);
  REQUIRE(std::holds_alternative<mcp_message>(checked));
  return std::get<mcp_message>(checked);
}

const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";

} // namespace

TEST_CASE("the Origin check comes first: only loopback origins may call /mcp", "[mcp]") {
  for (const auto* origin : {"http://localhost:3000", "http://127.0.0.1", "http://[::1]:8080"}) {
    auto request = post(ping);
    request.origin = origin;
    CHECK(accepted(request).method == "ping");
  }
  auto request = post("not even json");
  request.origin = "https://evil.example";
  request.content_type = "text/plain";
  CHECK(refused(request).code == errc::origin_not_allowed);
  request.origin = "http://localhost.evil.example";
  CHECK(refused(request).code == errc::origin_not_allowed);
}

TEST_CASE("content type, then accept, then the JSON-RPC shape are checked in order", "[mcp]") {
  auto request = post("{");
  request.content_type = "text/plain";
  request.accept = "text/html";
  CHECK(refused(request).code == errc::unsupported_media_type);
  request.content_type = "application/json; charset=utf-8";
  CHECK(refused(request).code == errc::not_acceptable);
  request.accept = "text/event-stream";
  const auto parse = refused(request);
  CHECK(parse.jsonrpc_code == edge::jsonrpc::parse_error);
  CHECK(parse.id.is_null());
}

TEST_CASE("batches and malformed messages are invalid requests", "[mcp]") {
  const auto batch = refused(post("[" + ping + "]"));
  CHECK(batch.jsonrpc_code == edge::jsonrpc::invalid_request);
  CHECK(batch.message == "batch JSON-RPC is not supported");
  for (const auto* body :
       {R"("text")", R"({"id":1,"method":"ping"})", R"({"jsonrpc":"1.0","id":1,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":1,"method":7})",
        R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})",
        R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})"}) {
    INFO(body);
    CHECK(refused(post(body)).jsonrpc_code == edge::jsonrpc::invalid_request);
  }
  CHECK(refused(post(R"({"jsonrpc":"2.0","id":"a","method":"ping","params":3})")).id == "a");
}

TEST_CASE("the protocol version header must be one /mcp speaks", "[mcp]") {
  auto request = post(ping);
  request.protocol_version = "2025-06-18";
  CHECK(accepted(request).protocol_version == "2025-06-18");
  request.protocol_version = "1999-01-01";
  const auto refusal = refused(request);
  CHECK(refusal.jsonrpc_code == edge::jsonrpc::invalid_request);
  CHECK(refusal.id == 1);
  CHECK(accepted(post(ping)).protocol_version == "2025-03-26"); // absent: the spec's default
}

TEST_CASE("requests expect an answer; notifications and client responses do not", "[mcp]") {
  CHECK(accepted(post(ping)).expects_answer);
  CHECK_FALSE(
    accepted(post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})")).expects_answer);
  CHECK_FALSE(accepted(post(R"({"jsonrpc":"2.0","id":5,"result":{}})")).expects_answer);
}

TEST_CASE("a client that accepts only an event stream gets one", "[mcp]") {
  auto request = post(ping);
  request.accept = "text/event-stream";
  CHECK(accepted(request).answer_as_sse);
  request.accept = "*/*";
  CHECK_FALSE(accepted(request).answer_as_sse);
}

TEST_CASE("a refusal renders as a JSON-RPC error carrying the stable code", "[mcp]") {
  const auto body = edge::render_mcp_refusal(
    {errc::mcp_service_disabled, edge::jsonrpc::server_error, "disabled", 3});
  CHECK(body["jsonrpc"] == "2.0");
  CHECK(body["id"] == 3);
  CHECK(body["error"]["code"] == -32000);
  CHECK(body["error"]["data"]["code"] == "mcp_service_disabled");
  CHECK(body["error"]["data"]["status"] == 403);
}
