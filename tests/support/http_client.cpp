#include "tests/support/http_client.hpp"

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace cxp::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

nlohmann::json user_turn_body(const std::string& text, const std::string& model) {
  return {{"model", model},
          {"stream", true},
          {"store", false},
          {"input",
           {{{"type", "message"},
             {"role", "user"},
             {"content", {{{"type", "input_text"}, {"text", text}}}}}}}};
}

http_result http_request(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body,
                         const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  stream.expires_after(std::chrono::seconds{30});
  stream.connect(net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    if (headers.find("content-type") == headers.end()
        && headers.find("Content-Type") == headers.end()) {
      request.set(http::field::content_type, "application/json");
    }
    request.body() = body;
    request.prepare_payload();
  }
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(stream, buffer, parser);
  auto response = parser.release();
  http_result result;
  result.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    auto& slot = result.headers[name];
    slot += (slot.empty() ? "" : "\n") + std::string{field.value()};
  }
  result.body = std::move(response.body());
  beast::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  return result;
}

} // namespace cxp::test
