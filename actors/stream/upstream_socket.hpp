#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "actors/upstream/upstream_client.hpp"

namespace cxp::actors {

/// Where upstream websockets run: an Asio executor (the client never blocks it) and the TLS
/// context used for `https` base URLs (peer verification on, system CA paths). Outlives every
/// socket; shared by all stream actors of the node.
struct ws_transport {
  boost::asio::any_io_executor executor;
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::shared_ptr<void> threads; ///< set by `start`: the io_context and threads it owns

  /// A transport on `executor` with a verifying TLS client context.
  static ws_transport make(boost::asio::any_io_executor executor);

  /// A transport with its own io_context run by `threads` threads.
  static ws_transport start(size_t threads);

  /// Stops the threads a `start`ed transport owns (sockets end); does nothing otherwise.
  void stop();
};

/// How an upgrade attempt ended: `ok`, or the HTTP status the server refused with (0 when the
/// connection itself failed) and a failure name for logs.
struct ws_open_result {
  bool ok = false;
  unsigned status = 0;
  std::string failure;
};

/// The callbacks of one upstream websocket. They run on the transport's executor, never two at
/// a time for one socket.
struct ws_socket_handler {
  std::function<void(ws_open_result)> on_open;
  /// One text message from the server. The next read starts only after `resume` (backpressure).
  std::function<void(std::string text, std::function<void()> resume)> on_message;
  /// The socket ended (after a successful open); `reason` is for logs.
  std::function<void(std::string reason)> on_closed;
};

/// A client websocket to the Codex backend (`ws://` for `http://` base URLs, `wss://` with TLS
/// verification and SNI for `https://`). Created by `open_upstream_socket`; every method may be
/// called from any thread (work is posted to the socket's strand).
class upstream_socket {
public:
  virtual ~upstream_socket() = default;
  /// Queues one text frame; `sent(ok)` runs once it is written or failed.
  virtual void send(std::string text, std::function<void(bool ok)> sent) = 0;
  /// Closes (normal closure); `on_closed` still runs once.
  virtual void close() = 0;
};

/// Starts connecting to `url` (absolute http(s) URL of the route, e.g.
/// `https://chatgpt.com/backend-api/codex/responses`) with `headers` on the upgrade request.
/// `max_message_bytes` bounds one server message.
std::shared_ptr<upstream_socket> open_upstream_socket(const ws_transport& transport,
                                                      const std::string& url, header_list headers,
                                                      std::chrono::milliseconds connect_timeout,
                                                      uint64_t max_message_bytes,
                                                      ws_socket_handler handler);

} // namespace cxp::actors
