#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace cxp::test {

/// A blocking websocket client for tests (the gateway side under test is asynchronous): the
/// Codex CLI's upgrade headers plus `headers`, bearer `key`.
class ws_client {
public:
  /// Connects and upgrades; `status` is 101 on success, else the refusal's status.
  ws_client(uint16_t port, const std::string& key, std::map<std::string, std::string> headers,
            const std::string& path = "/backend-api/codex/responses");

  std::string header(const std::string& name) const;
  void send(const std::string& text);
  /// The next text frame, or nullopt when the connection closed (see `close_code`).
  std::optional<std::string> read();
  /// Frames up to and including the one whose type is in `until` (or until the socket ends).
  std::vector<nlohmann::json> read_turn(std::set<std::string> until = {"response.completed",
                                                                       "error", "response.failed"});
  void close();

  int status = 0;
  bool open = false;
  uint16_t close_code = 0;

private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::websocket::response_type response_;
};

/// A `response.create` frame with one user message (and `previous_response_id` when given).
std::string ws_create_frame(const std::string& text, const std::string& previous = {});

/// A server frame's `type`, or empty.
std::string type_of(const nlohmann::json& frame);

/// The response id of the `response.completed` among `frames`, or empty.
std::string response_id_of(const std::vector<nlohmann::json>& frames);

} // namespace cxp::test
