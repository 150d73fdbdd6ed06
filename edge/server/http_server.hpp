#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/io_pool.hpp"
#include "edge/ingress/ingress_policy.hpp"
#include "edge/server/exchange.hpp"
#include "edge/server/route_table.hpp"
#include "edge/server/websocket_session.hpp"

namespace cxp::edge {

struct http_server_options {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 4000;
  /// Asio threads shared with the upstream client (see io_pool). Null: the server runs
  /// `io_threads` of its own.
  std::shared_ptr<io_pool> io;
  size_t io_threads = 2;
  /// Body limits, forwarded-address trust, the firewall and connection caps (see
  /// edge/ingress/). Null: the settings defaults.
  std::shared_ptr<ingress_policy> ingress;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds keep_alive_idle{75};
};

/// Shared between the server and its sessions: whether the node is draining and how many
/// requests are being served. Atomics only, no lock: sessions touch it on every request.
struct server_state {
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};
  websocket_set websockets;
};

/// Called once per finished exchange (metrics and access logging).
using completion_hook =
  std::function<void(const exchange&, http::status, std::chrono::steady_clock::duration)>;

/// A Beast HTTP/1.1 server: one acceptor, keep-alive sessions spread over the io pool's threads
/// (a session stays on one). Handlers run on Asio threads and must not block (see
/// actor_bridge.hpp).
class http_server {
public:
  http_server(http_server_options options, const route_table& routes, completion_hook on_complete);
  ~http_server();

  /// Binds and starts the Asio threads. Fails when the address cannot be bound.
  caf::expected<void> start();

  /// The bound port (useful with port 0).
  uint16_t port() const { return bound_port_; }

  const server_state& state() const { return *state_; }

  /// Marks the node draining (readiness turns 503, keep-alive ends after the current response).
  void begin_drain() { state_->draining = true; }

  /// Stops accepting, waits until in-flight requests finish or `deadline` passes, then stops the
  /// Asio threads if they are the server's own. Returns the number of requests still in flight
  /// when it gave up.
  int64_t shutdown(std::chrono::milliseconds deadline);

  /// Closes every open websocket with `code` and `reason` and waits until their closing
  /// handshakes ended or `deadline` passed. Returns the number still open when it gave up.
  size_t close_websockets(uint16_t code, const std::string& reason,
                          std::chrono::milliseconds deadline);

  /// Closes (1008) the open websockets whose client `rules`' firewall no longer admits.
  void refirewall_websockets(const ingress_rules& rules);

private:
  void do_accept();
  /// Gives an accepted connection a session, or refuses it (503 when the node is full, 429
  /// when its peer address is) when the connection caps say so.
  void admit(boost::asio::ip::tcp::socket socket, boost::asio::io_context& home);
  void refuse_connection(boost::asio::ip::tcp::socket socket, errc code);

  http_server_options options_;
  const route_table& routes_;
  completion_hook on_complete_;
  std::shared_ptr<server_state> state_ = std::make_shared<server_state>();
  std::shared_ptr<io_pool> io_;
  bool owns_io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t bound_port_ = 0;
};

} // namespace cxp::edge
