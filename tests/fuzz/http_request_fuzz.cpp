// HTTP/1.1 request heads and body framing: the bytes a client sends are read the way the
// server's sessions read them (edge/server/http_server.cpp): a Beast request_parser with the
// same header and body limits, fed through a stream that hands out the bytes in small reads,
// one parser per request of a keep-alive connection.

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Mirrors edge/server/http_server.cpp (header_limit_bytes) and http_server_options.
constexpr uint32_t header_limit_bytes = 64u * 1024;
constexpr uint64_t body_limit_bytes = 32u << 20;

void touch(const http::request<http::string_body>& request) {
  size_t fields = 0;
  for (const auto& field : request) {
    fields += field.name_string().size() + field.value().size();
  }
  cxp::fuzz::keep(fields);
  cxp::fuzz::keep(request.method());
  cxp::fuzz::keep(request.target().size());
  cxp::fuzz::keep(request.keep_alive());
  cxp::fuzz::keep(request.chunked());
  cxp::fuzz::keep(request.has_content_length());
  cxp::fuzz::require(request.body().size() <= body_limit_bytes, "body within the body limit");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  // The first byte picks the size of each socket read (1..64 bytes), so a head or a chunk
  // boundary can fall anywhere.
  const size_t read_size = 1 + data[0] % 64;
  boost::asio::io_context ioc;
  beast::test::stream client{ioc};
  client.read_size(read_size);
  client.append(beast::string_view{reinterpret_cast<const char*>(data + 1), size - 1});
  client.close_remote();
  beast::flat_buffer buffer;
  for (int requests = 0; requests < 16; ++requests) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit_bytes);
    parser.header_limit(header_limit_bytes);
    beast::error_code ec;
    http::read(client, buffer, parser, ec);
    if (ec) {
      break;
    }
    cxp::fuzz::require(parser.is_done(), "a read without error completes the message");
    auto request = parser.release();
    touch(request);
    if (!request.keep_alive()) {
      break;
    }
  }
  return 0;
}
