#include "actors/stream/upstream_socket.hpp"

#include <charconv>
#include <deque>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace cxp::actors {

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct ws_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
  std::string host_header;
};

std::optional<ws_url> parse_ws_url(std::string_view url) {
  ws_url out;
  out.tls = url.substr(0, 8) == "https://";
  if (!out.tls && url.substr(0, 7) != "http://") {
    return std::nullopt;
  }
  url.remove_prefix(out.tls ? 8 : 7);
  const auto slash = std::min(url.find('/'), url.size());
  auto host = url.substr(0, slash);
  out.target = slash < url.size() ? std::string{url.substr(slash)} : "/";
  unsigned port = out.tls ? 443 : 80;
  const unsigned default_port = port;
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.back() != ']') {
    auto digits = host.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    host = host.substr(0, colon);
  }
  if (host.empty()) {
    return std::nullopt;
  }
  const bool ipv6 = host.front() == '[';
  out.host = std::string{ipv6 ? host.substr(1, host.size() - 2) : host};
  out.port = std::to_string(port);
  out.host_header = std::string{host} + (port == default_port ? "" : ":" + out.port);
  return out;
}

/// One socket over `Stream` (plain TCP or TLS); everything runs on the strand of its stream.
template <class Stream>
class socket_impl : public upstream_socket,
                    public std::enable_shared_from_this<socket_impl<Stream>> {
public:
  template <class... Args>
  socket_impl(ws_url url, header_list headers, std::chrono::milliseconds connect_timeout,
              uint64_t max_message_bytes, ws_socket_handler handler, net::any_io_executor ex,
              Args&&... args)
      : ws_(std::forward<Args>(args)...),
        resolver_(ex),
        url_(std::move(url)),
        headers_(std::move(headers)),
        connect_timeout_(connect_timeout),
        handler_(std::move(handler)) {
    ws_.read_message_max(max_message_bytes);
  }

  /// What must outlive the socket's I/O objects: the transport's io_context and TLS context
  /// (a stream actor may release its socket after the transport was stopped).
  void keep_alive(std::vector<std::shared_ptr<void>> owners) { keepalive_ = std::move(owners); }

  void start() {
    net::dispatch(ws_.get_executor(), [self = this->shared_from_this()] { self->do_resolve(); });
  }

  void send(std::string text, std::function<void(bool)> sent) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), t = std::move(text),
                                   s = std::move(sent)]() mutable {
      if (!self->open_ || self->ended_) {
        if (s) {
          s(false);
        }
        return;
      }
      self->outbox_.push_back({std::move(t), std::move(s)});
      if (self->outbox_.size() == 1) {
        self->do_write();
      }
    });
  }

  void close() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
      if (self->ended_ || self->closing_) {
        return;
      }
      self->closing_ = true;
      // A close frame may not overlap a write in progress; then the TCP connection just ends.
      if (!self->open_ || !self->outbox_.empty()) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
        return;
      }
      self->ws_.async_close(websocket::close_code::normal,
                            [self](beast::error_code) { self->end("closed_by_gateway"); });
    });
  }

private:
  struct outgoing {
    std::string text;
    std::function<void(bool)> sent;
  };

  void do_resolve() {
    beast::get_lowest_layer(ws_).expires_after(connect_timeout_);
    resolver_.async_resolve(
      url_.host, url_.port,
      [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type found) {
        if (ec) {
          return self->open_failed(0, "resolve_failed");
        }
        self->do_connect(found);
      });
  }

  void do_connect(const tcp::resolver::results_type& found) {
    beast::get_lowest_layer(ws_).async_connect(
      found, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
        if (ec) {
          return self->open_failed(0, "connect_failed");
        }
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true), ignored);
        self->do_tls();
      });
  }

  void do_tls() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      auto& tls = ws_.next_layer();
      beast::error_code ec;
      if (SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str()) != 1) {
        return open_failed(0, "tls_sni_failed");
      }
      tls.set_verify_callback(ssl::host_name_verification(url_.host), ec);
      tls.async_handshake(ssl::stream_base::client,
                          [self = this->shared_from_this()](beast::error_code hec) {
                            if (hec) {
                              return self->open_failed(0, "tls_handshake_failed");
                            }
                            self->do_upgrade();
                          });
    } else {
      do_upgrade();
    }
  }

  void do_upgrade() {
    ws_.set_option(websocket::stream_base::decorator([headers = headers_](auto& request) {
      for (const auto& [name, value] : headers) {
        request.set(name, value);
      }
    }));
    ws_.async_handshake(response_, url_.host_header, url_.target,
                        [self = this->shared_from_this()](beast::error_code ec) {
                          if (ec) {
                            return self->open_failed(self->response_.result_int(),
                                                     "upgrade_refused");
                          }
                          beast::get_lowest_layer(self->ws_).expires_never();
                          // Server pings are answered by Beast; a dead peer is caught by the
                          // turn timeouts of the stream actor.
                          websocket::stream_base::timeout timeouts{};
                          timeouts.handshake_timeout = std::chrono::seconds{30};
                          timeouts.idle_timeout = websocket::stream_base::none();
                          timeouts.keep_alive_pings = false;
                          self->ws_.set_option(timeouts);
                          self->open_ = true;
                          if (self->handler_.on_open) {
                            self->handler_.on_open({true, 101, {}});
                          }
                          self->do_read();
                        });
  }

  void open_failed(unsigned status, std::string failure) {
    ended_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (handler_.on_open) {
      handler_.on_open({false, status, std::move(failure)});
    }
  }

  void do_read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        return self->end(ec == websocket::error::closed ? "closed_by_upstream" : "read_failed");
      }
      auto text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      auto resume = [self] {
        net::post(self->ws_.get_executor(), [self] {
          if (!self->ended_) {
            self->do_read();
          }
        });
      };
      self->handler_.on_message(std::move(text), std::move(resume));
    });
  }

  void do_write() {
    if (outbox_.empty() || ended_) {
      return;
    }
    ws_.text(true);
    ws_.async_write(net::buffer(outbox_.front().text),
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      if (self->ended_) {
                        return; // `end` already failed every queued frame
                      }
                      auto done = std::move(self->outbox_.front());
                      self->outbox_.pop_front();
                      if (done.sent) {
                        done.sent(!ec);
                      }
                      if (ec) {
                        return self->end("write_failed");
                      }
                      self->do_write();
                    });
  }

  void end(std::string reason) {
    if (ended_) {
      return;
    }
    ended_ = true;
    for (auto& pending : outbox_) {
      if (pending.sent) {
        pending.sent(false);
      }
    }
    outbox_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (handler_.on_closed) {
      handler_.on_closed(std::move(reason));
    }
  }

  std::vector<std::shared_ptr<void>> keepalive_; ///< first member: destroyed last
  websocket::stream<Stream> ws_;
  tcp::resolver resolver_;
  ws_url url_;
  header_list headers_;
  std::chrono::milliseconds connect_timeout_;
  ws_socket_handler handler_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<outgoing> outbox_;
  bool open_ = false;
  bool closing_ = false;
  bool ended_ = false;
};

struct owned_io {
  net::io_context io{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{io.get_executor()};
  std::vector<std::thread> threads;

  void stop() {
    work.reset();
    io.stop();
    for (auto& thread : threads) {
      if (thread.get_id() == std::this_thread::get_id()) {
        thread.detach(); // the last socket was released on one of our own threads
      } else if (thread.joinable()) {
        thread.join();
      }
    }
    threads.clear();
  }

  ~owned_io() { stop(); }
};

} // namespace

ws_transport ws_transport::start(size_t threads) {
  auto owned = std::make_shared<owned_io>();
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i) {
    owned->threads.emplace_back([raw = owned.get()] {
      for (;;) {
        try {
          raw->io.run();
          return;
        } catch (...) {
          // A throwing callback must not take the thread (and every socket on it) down.
        }
      }
    });
  }
  auto transport = make(owned->io.get_executor());
  transport.threads = owned;
  return transport;
}

void ws_transport::stop() {
  if (threads) {
    std::static_pointer_cast<owned_io>(threads)->stop();
  }
}

ws_transport ws_transport::make(boost::asio::any_io_executor executor) {
  auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  tls->set_verify_mode(ssl::verify_peer, ec);
  tls->set_default_verify_paths(ec);
  return {std::move(executor), std::move(tls), nullptr};
}

std::shared_ptr<upstream_socket> open_upstream_socket(const ws_transport& transport,
                                                      const std::string& url, header_list headers,
                                                      std::chrono::milliseconds connect_timeout,
                                                      uint64_t max_message_bytes,
                                                      ws_socket_handler handler) {
  auto parsed = parse_ws_url(url);
  auto strand = net::make_strand(transport.executor);
  if (!parsed) {
    auto on_open = std::move(handler.on_open);
    net::post(strand, [on_open] {
      if (on_open) {
        on_open({false, 0, "bad_url"});
      }
    });
    return nullptr;
  }
  if (parsed->tls) {
    using stream = beast::ssl_stream<beast::tcp_stream>;
    auto socket = std::make_shared<socket_impl<stream>>(
      std::move(*parsed), std::move(headers), connect_timeout, max_message_bytes,
      std::move(handler), strand, strand, *transport.tls);
    socket->keep_alive({transport.threads, transport.tls});
    socket->start();
    return socket;
  }
  auto socket = std::make_shared<socket_impl<beast::tcp_stream>>(
    std::move(*parsed), std::move(headers), connect_timeout, max_message_bytes, std::move(handler),
    strand, strand);
  socket->keep_alive({transport.threads, transport.tls});
  socket->start();
  return socket;
}

} // namespace cxp::actors
