// HTTP/1.1 requests as edge/server/http_server.cpp reads them off a connection: the head first
// (64 KiB header limit, no body accepted yet), judged by the framing rules of RFC 9112 §6.3
// (edge/ingress/http_framing.cpp) and the content-encoding check, then the body under a route
// class's limit, then a compressed body decoded (edge/ingress/content_encoding.cpp); one parser
// per request of a keep-alive connection, the bytes handed out in small reads.

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "edge/ingress/content_encoding.hpp"
#include "edge/ingress/http_framing.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Mirrors edge/server/http_server.cpp (header_limit_bytes); the body limit is one a route
// class may have.
constexpr uint32_t header_limit_bytes = 64u * 1024;
constexpr uint64_t body_limit_bytes = 1u << 20;

std::string_view text(beast::string_view value) {
  return {value.data(), value.size()};
}

void touch(const http::request<http::string_body>& request) {
  size_t fields = 0;
  for (const auto& field : request) {
    fields += field.name_string().size() + field.value().size();
  }
  cxp::fuzz::keep(fields);
  cxp::fuzz::keep(request.method());
  cxp::fuzz::keep(request.target().size());
  cxp::fuzz::keep(request.chunked());
  cxp::fuzz::require(request.body().size() <= body_limit_bytes, "body within the body limit");
}

/// One request off the connection; false when the connection ends (an error closes it).
bool serve_one(beast::test::stream& client, beast::flat_buffer& buffer) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(header_limit_bytes);
  parser.body_limit(0);
  beast::error_code ec;
  http::read_header(client, buffer, parser, ec);
  if (ec) {
    return false;
  }
  const auto& head = parser.get();
  if (cxp::edge::check_framing(head)) {
    return false;
  }
  const auto encoding = head.find(http::field::content_encoding);
  if (encoding != head.end() && !cxp::edge::is_accepted_encoding(text(encoding->value()))) {
    return false;
  }
  if (auto length = parser.content_length(); length && *length > body_limit_bytes) {
    return false;
  }
  parser.body_limit(body_limit_bytes);
  if (!parser.is_done()) {
    http::read(client, buffer, parser, ec);
    if (ec) {
      return false;
    }
  }
  cxp::fuzz::require(parser.is_done(), "a read without error completes the message");
  auto request = parser.release();
  if (auto coding = request.find(http::field::content_encoding); coding != request.end()) {
    if (cxp::edge::decode_body(request.body(), text(coding->value()), body_limit_bytes)) {
      return false;
    }
  }
  touch(request);
  return request.keep_alive();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  // The first byte picks the size of each socket read (1..64 bytes), so a head or a chunk
  // boundary can fall anywhere.
  boost::asio::io_context ioc;
  beast::test::stream client{ioc};
  client.read_size(1 + data[0] % 64);
  client.append(beast::string_view{reinterpret_cast<const char*>(data + 1), size - 1});
  client.close_remote();
  beast::flat_buffer buffer;
  for (int requests = 0; requests < 16 && serve_one(client, buffer); ++requests) {
  }
  return 0;
}
