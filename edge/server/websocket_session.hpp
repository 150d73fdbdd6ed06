#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "edge/server/exchange.hpp"

namespace cxp::edge {

/// Close codes the gateway uses (RFC 6455 §7.4).
constexpr uint16_t ws_close_normal = 1000;
constexpr uint16_t ws_close_going_away = 1001;
constexpr uint16_t ws_close_policy_violation = 1008;
constexpr uint16_t ws_close_too_big = 1009;
constexpr uint16_t ws_close_internal_error = 1011;

/// An accepted server websocket, handed to the route after the 101. Any thread may call it;
/// the work runs on the connection's strand, frames go out in call order.
class websocket_connection {
public:
  virtual ~websocket_connection() = default;
  /// Queues one text frame; `written(ok)` runs once it is on the wire (false: the client is
  /// gone). Waiting for it before sending more is how callers get backpressure.
  virtual void send(std::string text, std::function<void(bool ok)> written) = 0;
  /// Sends a close frame with `code` and `reason` after the queued frames, then ends.
  virtual void close(uint16_t code, std::string reason) = 0;
  /// The connection's strand: the upgrade callbacks run on it, and so does anything posted here.
  virtual boost::asio::any_io_executor executor() = 0;
};

/// What the route supplies for an upgrade. Callbacks run on the connection's strand, one at a
/// time; `on_closed` runs exactly once (also when the handshake fails, with code 0).
struct websocket_upgrade {
  std::vector<std::pair<std::string, std::string>> response_headers; ///< added to the 101
  uint64_t max_message_bytes = 32u << 20; ///< a bigger client message closes with 1009
  /// Closes with 1001 "idle timeout" after this long without a frame either way.
  std::chrono::milliseconds idle_timeout{30 * 60 * 1000};
  std::function<void(std::shared_ptr<websocket_connection>)> on_open;
  std::function<void(std::string text)> on_message;
  std::function<void(uint16_t code, std::string reason)> on_closed;
};

/// True when `request` asks for a websocket upgrade.
bool is_websocket_upgrade(const http_request& request);

/// The server's open websocket connections, so a stopping node can say goodbye to each. Shared
/// by the sessions on every Asio thread, hence the mutex (held for a map insert or erase).
class websocket_set {
public:
  void add(const std::shared_ptr<websocket_connection>& connection,
           const boost::asio::ip::address& client);
  void remove(const websocket_connection* connection);
  /// Sends every open connection a close frame with `code` and `reason`.
  void close_all(uint16_t code, const std::string& reason);
  /// Sends a close frame to the connections whose client address `matches`.
  void close_where(const std::function<bool(const boost::asio::ip::address&)>& matches,
                   uint16_t code, const std::string& reason);
  size_t size() const;

private:
  struct open_connection {
    std::weak_ptr<websocket_connection> connection;
    boost::asio::ip::address client;
  };
  mutable std::mutex mutex_;
  std::unordered_map<const websocket_connection*, open_connection> open_;
};

/// Runs the websocket handshake on `stream` (the HTTP session gives its socket up) and then the
/// session, registered in `live` while it is open (when given). Called on the stream's strand by
/// the HTTP server.
void start_websocket_session(boost::beast::tcp_stream stream, http_request request,
                             websocket_upgrade upgrade,
                             std::shared_ptr<websocket_set> live = nullptr,
                             boost::asio::ip::address client = {});

} // namespace cxp::edge
