#include "edge/server/websocket_session.hpp"

#include <future>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edge/errors/error_table.hpp"

using namespace cxp;
using namespace cxp::edge;

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// A one-connection server on loopback: reads the upgrade request like the HTTP server does and
/// hands the socket to `start_websocket_session` with an echoing route.
struct echo_server {
  explicit echo_server(websocket_upgrade upgrade, std::shared_ptr<websocket_set> live = nullptr) {
    close_code = closed_->get_future();
    acceptor.open(tcp::v4());
    acceptor.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    thread = std::thread{[this, upgrade = std::move(upgrade), live = std::move(live)]() mutable {
      auto socket = acceptor.accept();
      beast::tcp_stream stream{std::move(socket)};
      beast::flat_buffer buffer;
      http_request request;
      http::read(stream, buffer, request);
      auto closed = closed_;
      upgrade.on_open = [this](std::shared_ptr<websocket_connection> opened) {
        connection = std::move(opened);
      };
      upgrade.on_message = [this](std::string text) {
        connection->send("echo:" + text, nullptr);
      };
      upgrade.on_closed = [closed](uint16_t code, std::string) {
        closed->set_value(code);
      };
      start_websocket_session(std::move(stream), std::move(request), std::move(upgrade),
                              std::move(live));
      ioc.run();
    }};
  }

  ~echo_server() {
    ioc.stop();
    thread.join();
  }

  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread thread;
  std::shared_ptr<websocket_connection> connection;
  std::shared_ptr<std::promise<uint16_t>> closed_ = std::make_shared<std::promise<uint16_t>>();
  std::future<uint16_t> close_code;
};

struct client {
  explicit client(uint16_t port) : ws(ioc) {
    tcp::resolver resolver{ioc};
    net::connect(ws.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws.handshake(response, "127.0.0.1", "/backend-api/codex/responses");
  }

  net::io_context ioc;
  websocket::stream<tcp::socket> ws;
  websocket::response_type response;
};

websocket_upgrade options(uint64_t max_bytes, std::chrono::milliseconds idle) {
  websocket_upgrade upgrade;
  upgrade.response_headers.emplace_back("x-codex-turn-state", "state-1");
  upgrade.max_message_bytes = max_bytes;
  upgrade.idle_timeout = idle;
  return upgrade;
}

} // namespace

TEST_CASE("an accepted websocket carries the route's headers and relays text frames",
          "[unit][edge][websocket]") {
  echo_server server{options(1024, std::chrono::seconds{30})};
  client c{server.port};
  CHECK(c.response["x-codex-turn-state"] == "state-1");
  c.ws.text(true);
  c.ws.write(net::buffer(std::string{"hello"}));
  beast::flat_buffer buffer;
  c.ws.read(buffer);
  CHECK(beast::buffers_to_string(buffer.data()) == "echo:hello");
  c.ws.close(websocket::close_code::normal);
  CHECK(server.close_code.get() == ws_close_normal);
}

TEST_CASE("a message above the limit closes with 1009", "[unit][edge][websocket]") {
  echo_server server{options(64, std::chrono::seconds{30})};
  client c{server.port};
  c.ws.text(true);
  c.ws.write(net::buffer(std::string(200, 'x')));
  beast::flat_buffer buffer;
  beast::error_code ec;
  c.ws.read(buffer, ec);
  CHECK(ec == websocket::error::closed);
  CHECK(c.ws.reason().code == ws_close_too_big);
  CHECK(server.close_code.get() == ws_close_too_big);
}

TEST_CASE("a silent client is closed with 1001 after the idle timeout", "[unit][edge][websocket]") {
  echo_server server{options(1024, std::chrono::milliseconds{200})};
  client c{server.port};
  const auto started = std::chrono::steady_clock::now();
  beast::flat_buffer buffer;
  beast::error_code ec;
  c.ws.read(buffer, ec);
  CHECK(ec == websocket::error::closed);
  CHECK(c.ws.reason().code == ws_close_going_away);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds{150});
}

TEST_CASE("websocket errors use the error table in the wrapped form", "[unit][edge][websocket]") {
  auto frame = render_websocket_error(errc::pinned_continuation_unavailable);
  CHECK(frame["type"] == "error");
  CHECK(frame["status"] == 503);
  CHECK(frame["error"]["code"] == "pinned_continuation_unavailable");
  CHECK(frame["error"]["message"].get<std::string>().find("full context") != std::string::npos);
  auto custom = render_websocket_error(errc::invalid_request, "model is required", "model");
  CHECK(custom["status"] == 400);
  CHECK(custom["error"]["message"] == "model is required");
  CHECK(custom["error"]["param"] == "model");
}

TEST_CASE("a stopping server closes every open websocket with its code, and forgets it",
          "[unit][edge][websocket]") {
  auto live = std::make_shared<websocket_set>();
  echo_server server{options(1024, std::chrono::seconds{30}), live};
  client c{server.port};
  // The session registers once its handshake completed; the echo proves it did.
  c.ws.text(true);
  c.ws.write(net::buffer(std::string{"ping"}));
  beast::flat_buffer buffer;
  c.ws.read(buffer);
  CHECK(live->size() == 1);
  live->close_all(ws_close_going_away, "server is shutting down");
  beast::error_code ec;
  c.ws.read(buffer, ec);
  CHECK(ec == websocket::error::closed);
  CHECK(c.ws.reason().code == ws_close_going_away);
  CHECK(std::string{c.ws.reason().reason.c_str()} == "server is shutting down");
  CHECK(server.close_code.get() == ws_close_going_away);
  CHECK(live->size() == 0);
}
