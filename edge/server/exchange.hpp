#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "common/errc.hpp"

namespace cxp::edge {

struct websocket_upgrade;

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;
using http_stream_head = http::response<http::empty_body>;

/// The writer of a streamed (chunked) reply, e.g. relayed server-sent events. Any thread may
/// call it; chunks go out in order on the session's io_context.
class reply_stream {
public:
  virtual ~reply_stream() = default;
  /// Queues `chunk`; `written(ok)` runs once it is on the wire, or with false when the client
  /// is gone. Waiting for it before the next write is how callers get backpressure.
  virtual void write(std::string chunk, std::function<void(bool ok)> written) = 0;
  /// Ends the body; the connection may then serve its next request.
  virtual void finish() = 0;
  /// Writes `last_chunk` (when not empty) and ends the body, in one write where the stream can.
  virtual void finish_with(std::string last_chunk) {
    if (!last_chunk.empty()) {
      write(std::move(last_chunk), [](bool) {});
    }
    finish();
  }
  /// Drops the connection without ending the body, so the client sees a truncated reply.
  virtual void abort() = 0;
};

/// One request and its single reply. The session creates it and the route handler owns the
/// reply: `respond` may be called from any thread exactly once (later calls are ignored); the
/// bytes are written on the session's io_context.
class exchange {
public:
  using reply_fn = std::function<void(http_response)>;
  using stream_fn = std::function<std::shared_ptr<reply_stream>(http_stream_head)>;
  using upgrade_fn = std::function<void(websocket_upgrade)>;

  exchange(http_request request, std::string client_ip, reply_fn reply, stream_fn stream = {},
           upgrade_fn upgrade = {});

  const http_request& request() const { return request_; }
  const std::string& client_ip() const { return client_ip_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  /// Whether the client reached us over TLS (a trusted proxy said so): cookies are then Secure.
  bool secure_transport() const { return secure_transport_; }
  void set_secure_transport(bool secure) { secure_transport_ = secure; }

  /// A path parameter captured by the route pattern (":id"), or empty.
  std::string_view param(std::string_view name) const;
  void set_params(std::map<std::string, std::string, std::less<>> params) {
    params_ = std::move(params);
  }

  /// The query string value of `name`, percent-decoded, or nullopt.
  std::optional<std::string> query(std::string_view name) const;

  /// The io_context of the client's connection (null for an exchange no connection serves).
  /// Work started for this request runs there, so its sockets and state stay on one thread.
  boost::asio::io_context* home() const { return home_; }
  void set_home(boost::asio::io_context& home) { home_ = &home; }

  /// The request path without the query string.
  std::string_view path() const;

  /// The route pattern that matched (a bounded label for metrics and logs).
  const std::string& route_name() const { return route_name_; }
  void set_route_name(std::string name) { route_name_ = std::move(name); }

  void respond(http_response response);
  /// Starts a chunked reply with `head` (its body is what the stream writes). Returns nullptr
  /// when the exchange was already answered.
  std::shared_ptr<reply_stream> respond_stream(http_stream_head head);
  void respond_json(http::status status, const nlohmann::json& body);
  /// Renders the OpenAI error envelope for `code` through the error table.
  void respond_error(errc code, std::optional<std::string> message = std::nullopt,
                     std::optional<std::string> param = std::nullopt);
  /// `respond_error` for a `caf::error`: its context is logged, never sent.
  void respond_error(const caf::error& error);

  /// Answers a websocket upgrade request with 101 and hands the connection to `upgrade`'s
  /// callbacks (see websocket_session.hpp). False when the exchange was already answered or the
  /// server cannot upgrade it.
  bool accept_websocket(websocket_upgrade upgrade);

  bool responded() const { return responded_.load(); }

private:
  http_request request_;
  std::string client_ip_;
  reply_fn reply_;
  stream_fn stream_;
  upgrade_fn upgrade_;
  std::map<std::string, std::string, std::less<>> params_;
  std::string route_name_ = "unmatched";
  bool secure_transport_ = false;
  boost::asio::io_context* home_ = nullptr;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<bool> responded_{false};
};

using exchange_ptr = std::shared_ptr<exchange>;

} // namespace cxp::edge
