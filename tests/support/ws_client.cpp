#include "tests/support/ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

#include "tests/support/http_client.hpp"

namespace cxp::test {

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

constexpr auto read_timeout = std::chrono::seconds{15};

} // namespace

ws_client::ws_client(uint16_t port, const std::string& key,
                     std::map<std::string, std::string> headers, const std::string& path)
    : ws_(ioc_) {
  tcp::resolver resolver{ioc_};
  beast::get_lowest_layer(ws_).expires_after(read_timeout);
  beast::get_lowest_layer(ws_).connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  ws_.set_option(websocket::stream_base::decorator([key, headers](websocket::request_type& req) {
    req.set("authorization", "Bearer " + key);
    req.set("openai-beta", "responses_websockets=2026-02-06");
    req.set("originator", "codex_exec");
    for (const auto& [name, value] : headers) {
      req.set(name, value);
    }
  }));
  // The asynchronous handshake keeps a refused upgrade's response (the blocking one does not).
  beast::error_code ec;
  ws_.async_handshake(response_, "127.0.0.1", path,
                      [&ec](beast::error_code result) { ec = result; });
  ioc_.run();
  ioc_.restart();
  status = response_.result_int();
  open = !ec;
}

std::string ws_client::header(const std::string& name) const {
  return std::string{response_[name]};
}

void ws_client::send(const std::string& text) {
  beast::get_lowest_layer(ws_).expires_after(read_timeout);
  ws_.text(true);
  ws_.write(net::buffer(text));
}

std::optional<std::string> ws_client::read() {
  beast::flat_buffer buffer;
  beast::error_code ec;
  beast::get_lowest_layer(ws_).expires_after(read_timeout);
  ws_.read(buffer, ec);
  if (ec) {
    close_code = ws_.reason().code;
    open = false;
    return std::nullopt;
  }
  return beast::buffers_to_string(buffer.data());
}

std::vector<json> ws_client::read_turn(std::set<std::string> until) {
  std::vector<json> frames;
  while (auto text = read()) {
    frames.push_back(json::parse(*text));
    if (until.count(frames.back().value("type", ""))) {
      break;
    }
  }
  return frames;
}

void ws_client::close() {
  beast::error_code ignored;
  ws_.close(websocket::close_code::normal, ignored);
}

std::string ws_create_frame(const std::string& text, const std::string& previous) {
  auto frame = user_turn_body(text, "gpt-5.5");
  frame["type"] = "response.create";
  if (!previous.empty()) {
    frame["previous_response_id"] = previous;
  }
  return frame.dump();
}

std::string type_of(const json& frame) {
  return frame.value("type", std::string{});
}

std::string response_id_of(const std::vector<json>& frames) {
  for (const auto& frame : frames) {
    if (type_of(frame) == "response.completed") {
      return frame.value(json::json_pointer{"/response/id"}, std::string{});
    }
  }
  return {};
}

} // namespace cxp::test
