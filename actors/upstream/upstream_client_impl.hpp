#pragma once

// The internals upstream_client.cpp and upstream_call_op.cpp share: the parsed URL, the
// connection, and the client's state (connection pool, live calls). Included by those two only.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "actors/upstream/upstream_client.hpp"

namespace cxp::actors {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

// Named (not anonymous) because `upstream_client::impl` has fields of these types.
namespace upstream_detail {

constexpr size_t chunk_buffer_bytes = 16 * 1024;
constexpr uint32_t header_limit_bytes = 64 * 1024;

struct parsed_url {
  bool tls = false;
  std::string host; ///< without IPv6 brackets
  std::string port;
  std::string target;
  std::string host_header;

  std::string origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

/// `url` split into what a connection needs; nullopt unless an absolute http(s) URL.
std::optional<parsed_url> parse_url(std::string_view url);

bool is_http_error(const beast::error_code& ec);

/// The peer went away (as opposed to a timeout or garbage).
bool is_disconnect(const beast::error_code& ec);

upstream_failure map_error(const beast::error_code& ec, bool in_body);

/// One plain or TLS connection; the rest of the client is written once against it.
class connection {
public:
  using plain_stream = beast::tcp_stream;
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;

  connection(net::any_io_executor ex, ssl::context* tls) : stream_(make(std::move(ex), tls)) {
    // A read takes what fits the buffer's free room (at least 512 bytes), and parsing consumes
    // it, so without this room an answer would arrive 512 bytes per system call.
    buffer.reserve(chunk_buffer_bytes);
  }

  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }
  beast::tcp_stream& tcp() {
    return visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); });
  }
  tls_stream* tls() { return std::get_if<tls_stream>(&stream_); }
  void close() { tcp().close(); }

  beast::flat_buffer buffer;

private:
  static std::variant<plain_stream, tls_stream> make(net::any_io_executor ex, ssl::context* tls) {
    if (tls != nullptr) {
      return std::variant<plain_stream, tls_stream>{std::in_place_type<tls_stream>, ex, *tls};
    }
    return std::variant<plain_stream, tls_stream>{std::in_place_type<plain_stream>, ex};
  }

  std::variant<plain_stream, tls_stream> stream_;
};

class call_op;
using done_fn = std::function<void(std::optional<upstream_failure>, upstream_reply)>;

} // namespace upstream_detail

using upstream_detail::call_op;
using upstream_detail::connection;
using upstream_detail::done_fn;
using upstream_detail::parse_url;

struct upstream_client::impl : std::enable_shared_from_this<upstream_client::impl> {
  explicit impl(upstream_client_options opts)
      : options(std::move(opts)),
        owns_io(!options.io),
        io(owns_io ? std::make_shared<io_pool>(options.io_threads) : options.io) {
    beast::error_code ec;
    tls.set_verify_mode(options.verify_tls ? ssl::verify_peer : ssl::verify_none, ec);
    if (!ec) {
      tls.set_default_verify_paths(ec);
    }
    if (!ec && !options.ca_file.empty()) {
      tls.load_verify_file(options.ca_file, ec);
    }
    tls_ok = !ec;
  }

  void start_threads() {
    if (owns_io) {
      io->start();
    }
  }

  std::shared_ptr<upstream_call> start(upstream_request request, upstream_stream_handler* handler,
                                       done_fn* done);
  void stop();

  /// Posts unless stopped: a handler queued on a stopped io_context would never run.
  template <class F>
  bool post(const net::any_io_executor& ex, F&& f) {
    std::lock_guard lock{mutex};
    if (stopped) {
      return false;
    }
    net::post(ex, std::forward<F>(f));
    return true;
  }

  using pool_key = std::pair<net::io_context*, std::string>; ///< io_context, origin

  std::unique_ptr<connection> take(const pool_key& origin) {
    std::vector<std::unique_ptr<connection>> expired; // closed outside the lock
    std::lock_guard lock{mutex};
    auto it = idle.find(origin);
    if (stopped || it == idle.end()) {
      return nullptr;
    }
    drop_expired(it->second, expired);
    std::unique_ptr<connection> conn;
    if (!it->second.empty()) {
      conn = std::move(it->second.back().conn);
      it->second.pop_back();
      --idle_count;
    }
    if (it->second.empty()) {
      idle.erase(it);
    }
    return conn;
  }

  /// A parked connection to `origin` on any io_context, with that io_context.
  std::pair<net::io_context*, std::unique_ptr<connection>> take_any(const std::string& origin) {
    net::io_context* context = nullptr;
    {
      std::lock_guard lock{mutex};
      for (const auto& [key, parked] : idle) {
        if (key.second == origin && !parked.empty()) {
          context = key.first;
          break;
        }
      }
    }
    if (context == nullptr) {
      return {nullptr, nullptr};
    }
    return {context, take({context, origin})};
  }

  void park(const pool_key& origin, std::unique_ptr<connection> conn) {
    std::vector<std::unique_ptr<connection>> expired;
    std::lock_guard lock{mutex};
    auto& parked = idle[origin];
    drop_expired(parked, expired);
    if (!stopped && parked.size() < options.max_idle_per_host) {
      parked.push_back({std::move(conn), steady::now()});
      ++idle_count;
    } else {
      expired.push_back(std::move(conn));
    }
  }

  void unregister(call_op* call) {
    std::shared_ptr<call_op> released; // dropped outside the lock
    std::lock_guard lock{mutex};
    if (auto it = calls.find(call); it != calls.end()) {
      released = std::move(it->second);
      calls.erase(it);
    }
  }

  struct parked_connection {
    std::unique_ptr<connection> conn;
    steady::time_point since;
  };

  void drop_expired(std::deque<parked_connection>& parked,
                    std::vector<std::unique_ptr<connection>>& out) {
    auto now = steady::now();
    while (!parked.empty() && now - parked.front().since > options.idle_connection_ttl) {
      out.push_back(std::move(parked.front().conn));
      parked.pop_front();
      --idle_count;
    }
  }

  upstream_client_options options;
  bool owns_io;
  std::shared_ptr<io_pool> io;
  ssl::context tls{ssl::context::tls_client};
  bool tls_ok = true;

  mutable std::mutex mutex; // guards everything below
  bool stopped = false;
  /// Strong: a call waiting for `resume` has no pending operation to keep it alive.
  std::unordered_map<call_op*, std::shared_ptr<call_op>> calls;
  std::map<pool_key, std::deque<parked_connection>> idle;
  size_t idle_count = 0;
};

} // namespace cxp::actors
