#include "edge/server/http_server.hpp"

#include <cstdio>
#include <deque>
#include <limits>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "common/log.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/ingress/content_encoding.hpp"
#include "edge/ingress/http_framing.hpp"
#include "edge/server/websocket_session.hpp"

namespace cxp::edge {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto header_limit_bytes = 64u * 1024;
/// The most a body read asks of the socket at once (Beast's own cap per read).
constexpr uint64_t body_read_bytes = 64u * 1024;
/// A streamed reply whose client reads nothing for this long is dropped.
constexpr auto stream_write_timeout = std::chrono::seconds{60};

/// One client connection: reads a request, dispatches it, writes the reply, repeats while
/// keep-alive holds. All socket work happens on the session's io_context (one thread).
class http_session : public std::enable_shared_from_this<http_session> {
  friend class session_stream;

public:
  http_session(tcp::socket&& socket, net::io_context& home, const http_server_options& options,
               const route_table& routes, const completion_hook& on_complete,
               std::shared_ptr<server_state> state, std::shared_ptr<connection_slot> slot,
               net::ip::address peer)
      : stream_(std::move(socket)),
        home_(home),
        options_(options),
        routes_(routes),
        on_complete_(on_complete),
        state_(std::move(state)),
        slot_(std::move(slot)),
        peer_(canonical_address(peer)) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit_bytes);
    // The head is judged first (async_read_header reads no body); the route class's limit is
    // set once the target is known.
    // (Not boost::none: Beast compares the length against the optional, and none is less.)
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    stream_.expires_after(requests_served_ == 0 ? options_.read_timeout : options_.keep_alive_idle);
    http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  /// The ingress chain, in order, for a request whose head has arrived: framing (RFC 9112
  /// §6.3), client address, firewall, body limit of the route class, content encoding; then
  /// the body is read and the route runs (key authentication and admission happen there).
  void on_header(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted || ec == net::error::eof
        || ec == net::error::connection_reset) {
      return do_close();
    }
    if (ec == http::error::header_limit) {
      return reply_early(errc::request_headers_too_large);
    }
    if (ec) {
      return reply_early(errc::invalid_request);
    }
    const auto& head = parser_->get();
    if (auto framing = check_framing(head)) {
      return reply_early(*framing);
    }
    rules_ = options_.ingress->rules();
    client_ = client_address_of(peer_, head, *rules_);
    const auto path = std::string_view{head.target().data(), head.target().size()};
    if (is_firewalled(path) && !rules_->admits(client_)) {
      return reply_early(errc::client_address_not_allowed);
    }
    auto encoding = head.find(http::field::content_encoding);
    if (encoding != head.end()
        && !is_accepted_encoding({encoding->value().data(), encoding->value().size()})) {
      return reply_early(errc::unsupported_content_encoding);
    }
    body_limit_ = rules_->body_limit(body_class_of(path));
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return reply_early(errc::payload_too_large);
    }
    parser_->body_limit(body_limit_);
    if (parser_->is_done()) {
      return on_read({});
    }
    // A read takes what fits the buffer's free room (at least 512 bytes): without room made
    // here, a large body would arrive 512 bytes per system call. Only requests with a body get
    // it, so an idle connection or an upgraded websocket keeps a small buffer.
    buffer_.reserve(buffer_.size()
                    + static_cast<size_t>(std::min<uint64_t>(
                      parser_->content_length().value_or(body_read_bytes), body_read_bytes)));
    http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code read_ec, size_t) { self->on_read(read_ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted) {
      return do_close();
    }
    if (ec == http::error::body_limit) {
      return reply_early(errc::payload_too_large);
    }
    if (ec) {
      return reply_early(errc::invalid_request);
    }
    stream_.expires_never();
    auto request = parser_->release();
    if (auto encoding = request.find(http::field::content_encoding); encoding != request.end()) {
      if (auto failure = decode_body(
            request.body(), {encoding->value().data(), encoding->value().size()}, body_limit_)) {
        return reply_early(*failure);
      }
      request.erase(http::field::content_encoding);
      request.content_length(request.body().size());
    }
    start_exchange(std::move(request));
  }

  /// Answers a request that could not be accepted, then closes (its body may be unread and its
  /// framing may not be trusted).
  void reply_early(errc code) {
    http_request request;
    request.version(11);
    request.keep_alive(false);
    start_exchange(std::move(request), code);
  }

  void start_exchange(http_request request, std::optional<errc> early_error = std::nullopt) {
    ++state_->in_flight;
    auto client_ip = client_.is_unspecified() ? peer_.to_string() : client_.to_string();
    std::weak_ptr<http_session> weak = weak_from_this();
    auto self = shared_from_this();
    const bool keep_alive = request.keep_alive() && !early_error;
    auto ex = std::make_shared<exchange>(
      std::move(request), std::move(client_ip),
      [self, keep_alive](http_response response) {
        net::post(self->stream_.get_executor(),
                  [self, keep_alive, r = std::move(response)]() mutable {
                    self->do_write(std::move(r), keep_alive);
                  });
      },
      [self, keep_alive](http_stream_head head) {
        return self->start_stream(std::move(head), keep_alive);
      },
      [self](websocket_upgrade upgrade) {
        net::post(self->stream_.get_executor(),
                  [self, u = std::move(upgrade)]() mutable { self->hand_over(std::move(u)); });
      });
    current_ = ex;
    ex->set_home(home_);
    ex->set_secure_transport(rules_ && forwarded_over_tls(peer_, ex->request(), *rules_));
    if (early_error) {
      ex->respond_error(*early_error);
      return;
    }
    routes_.dispatch(ex);
  }

  void do_write(http_response response, bool keep_alive) {
    const bool keep = keep_alive && !state_->draining;
    response.keep_alive(keep);
    response.prepare_payload();
    finish_exchange(response.result());
    auto message = std::make_shared<http_response>(std::move(response));
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message, keep](beast::error_code ec, size_t) {
                        self->on_write(ec, keep);
                      });
  }

  std::shared_ptr<reply_stream> start_stream(http_stream_head head, bool keep_alive);

  /// The route accepted a websocket upgrade: the socket leaves this session for a websocket
  /// session (which no longer counts as an in-flight request).
  void hand_over(websocket_upgrade upgrade) {
    auto request = current_ ? current_->request() : http_request{};
    finish_exchange(http::status::switching_protocols);
    --state_->in_flight;
    // The connection keeps its place in the connection caps while it is a websocket.
    upgrade.on_closed = [slot = slot_, closed = std::move(upgrade.on_closed)](uint16_t code,
                                                                              std::string reason) {
      if (closed) {
        closed(code, std::move(reason));
      }
    };
    start_websocket_session(std::move(stream_), std::move(request), std::move(upgrade),
                            std::shared_ptr<websocket_set>{state_, &state_->websockets}, client_);
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    --state_->in_flight;
    ++requests_served_;
    if (ec || !keep_alive) {
      return do_close();
    }
    do_read();
  }

  void finish_exchange(http::status status) {
    if (current_) {
      on_complete_(*current_, status, std::chrono::steady_clock::now() - current_->started());
      current_.reset();
    }
  }

  void do_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  net::io_context& home_; ///< runs `stream_` and every handler of this session
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const http_server_options& options_;
  const route_table& routes_;
  const completion_hook& on_complete_;
  std::shared_ptr<server_state> state_;
  std::shared_ptr<connection_slot> slot_;
  net::ip::address peer_;
  net::ip::address client_;
  std::shared_ptr<const ingress_rules> rules_;
  uint64_t body_limit_ = 0;
  exchange_ptr current_;
  uint64_t requests_served_ = 0;
};

/// The chunked reply of one exchange. Its queue lives on the session's io_context; the head goes
/// first, then chunks in order, then the last chunk (or an abort). What is queued while a write
/// runs goes out together in the next one, the head with the first chunks: on loopback a socket
/// write costs more than copying a few kilobytes, so an answer takes as few writes as it can.
class session_stream : public reply_stream, public std::enable_shared_from_this<session_stream> {
public:
  session_stream(std::shared_ptr<http_session> session, http_stream_head head, bool keep_alive)
      : session_(std::move(session)),
        head_(std::move(head)),
        keep_alive_(keep_alive) {}

  void start() {
    net::post(session_->stream_.get_executor(), [self = shared_from_this()] { self->pump(); });
  }

  void write(std::string chunk, std::function<void(bool)> written) override {
    // From the session's own thread (the proxied turn's, which shares it) it runs at once.
    net::dispatch(session_->home_.get_executor(), [self = shared_from_this(), c = std::move(chunk),
                                                   w = std::move(written)]() mutable {
      self->queue_.push_back({item::kind::chunk, std::move(c), std::move(w)});
      self->pump();
    });
  }

  void finish() override { enqueue(item::kind::last); }

  void finish_with(std::string last_chunk) override {
    net::dispatch(session_->home_.get_executor(),
                  [self = shared_from_this(), c = std::move(last_chunk)]() mutable {
                    if (!c.empty()) {
                      self->queue_.push_back({item::kind::chunk, std::move(c), {}});
                    }
                    self->queue_.push_back({item::kind::last, {}, {}});
                    self->pump();
                  });
  }
  void abort() override { enqueue(item::kind::abort); }

private:
  struct item {
    enum class kind { chunk, last, abort } what;
    std::string data;
    std::function<void(bool)> written;
  };

  void enqueue(item::kind what) {
    net::post(session_->stream_.get_executor(), [self = shared_from_this(), what] {
      self->queue_.push_back({what, {}, {}});
      self->pump();
    });
  }

  /// The head as the wire carries it (status line, fields, blank line).
  void append_head() {
    head_.keep_alive(keep_alive_ && !session_->state_->draining);
    keep_alive_ = head_.keep_alive();
    head_.chunked(true);
    http::fields::writer fields{head_, head_.version(), head_.result_int()};
    const auto wire = fields.get();
    for (const auto buffer : beast::buffers_range_ref(wire)) {
      out_.append(static_cast<const char*>(buffer.data()), buffer.size());
    }
  }

  /// Frames the queued chunks (up to an abort) into `out_` and moves them to `in_flight_`.
  void take_queued() {
    char size_line[24];
    while (!queue_.empty() && queue_.front().what != item::kind::abort) {
      auto next = std::move(queue_.front());
      queue_.pop_front();
      if (next.what == item::kind::last) {
        out_.append("0\r\n\r\n");
        last_in_flight_ = true;
        break;
      }
      // An empty chunk would read as the last one: it only waits for the writes before it.
      if (!next.data.empty()) {
        const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", next.data.size());
        out_.append(size_line, static_cast<size_t>(n));
        out_.append(next.data);
        out_.append("\r\n");
      }
      if (next.written) {
        in_flight_.push_back(std::move(next.written));
      }
    }
  }

  void pump() {
    if (writing_ || done_ || (head_written_ && queue_.empty())) {
      return;
    }
    if (broken_ || (!queue_.empty() && queue_.front().what == item::kind::abort)) {
      return close(false);
    }
    out_.clear();
    if (!head_written_) {
      append_head();
      head_written_ = true;
    }
    take_queued();
    writing_ = true;
    session_->stream_.expires_after(stream_write_timeout);
    net::async_write(
      session_->stream_, net::buffer(out_),
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_written(ec); });
  }

  void on_written(beast::error_code ec) {
    writing_ = false;
    broken_ = broken_ || static_cast<bool>(ec);
    auto written = std::move(in_flight_);
    in_flight_.clear();
    for (auto& callback : written) {
      callback(!ec);
    }
    if (last_in_flight_) {
      return close(!ec);
    }
    pump();
  }

  /// Ends the exchange: a clean end may keep the connection; anything else closes it.
  void close(bool clean) {
    done_ = true;
    for (auto& pending : queue_) {
      if (pending.written) {
        pending.written(false);
      }
    }
    queue_.clear();
    session_->stream_.expires_never();
    session_->finish_exchange(head_.result());
    session_->on_write(clean ? beast::error_code{} : beast::error_code{net::error::broken_pipe},
                       clean && keep_alive_);
  }

  std::shared_ptr<http_session> session_;
  http_stream_head head_;
  bool keep_alive_;
  std::deque<item> queue_;
  std::string out_; ///< the bytes of the write in flight
  std::vector<std::function<void(bool)>> in_flight_;
  bool head_written_ = false;
  bool last_in_flight_ = false;
  bool writing_ = false;
  bool broken_ = false;
  bool done_ = false;
};

std::shared_ptr<reply_stream> http_session::start_stream(http_stream_head head, bool keep_alive) {
  auto stream = std::make_shared<session_stream>(shared_from_this(), std::move(head), keep_alive);
  stream->start();
  return stream;
}

http_server_options with_ingress(http_server_options options) {
  if (!options.ingress) {
    options.ingress = std::make_shared<ingress_policy>();
  }
  return options;
}

} // namespace

http_server::http_server(http_server_options options, const route_table& routes,
                         completion_hook on_complete)
    : options_(with_ingress(std::move(options))),
      routes_(routes),
      on_complete_(std::move(on_complete)),
      io_(options_.io ? options_.io : std::make_shared<io_pool>(options_.io_threads)),
      owns_io_(!options_.io),
      acceptor_(io_->next()) {}

http_server::~http_server() {
  if (owns_io_) {
    io_->stop();
  }
}

caf::expected<void> http_server::start() {
  beast::error_code ec;
  auto address = net::ip::make_address(options_.bind_address, ec);
  if (ec) {
    return make_error(errc::config_invalid, "bad bind address " + options_.bind_address);
  }
  tcp::endpoint endpoint{address, options_.port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(errc::config_invalid, "cannot listen on " + options_.bind_address + ":"
                                              + std::to_string(options_.port) + ": "
                                              + ec.message());
  }
  bound_port_ = acceptor_.local_endpoint().port();
  do_accept();
  io_->start();
  return {};
}

void http_server::do_accept() {
  auto& home = io_->next();
  acceptor_.async_accept(home, [this, &home](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    if (!ec) {
      admit(std::move(socket), home);
    }
    do_accept();
  });
}

void http_server::admit(tcp::socket socket, net::io_context& home) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec).address();
  if (ec) {
    return;
  }
  auto rules = options_.ingress->rules();
  auto entry = options_.ingress->connections().enter(peer, *rules);
  if (entry.outcome != connection_gate::verdict::admitted) {
    return refuse_connection(std::move(socket), entry.outcome == connection_gate::verdict::node_full
                                                  ? errc::server_is_overloaded
                                                  : errc::rate_limited);
  }
  // Streamed replies go out in small writes (head, then one chunk per event); without this
  // Nagle holds each one back until the client's delayed ACK.
  socket.set_option(tcp::no_delay(true), ec);
  std::make_shared<http_session>(std::move(socket), home, options_, routes_, on_complete_, state_,
                                 std::move(entry.slot), peer)
    ->run();
}

void http_server::refuse_connection(tcp::socket socket, errc code) {
  http_response response{lookup_error(code).status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = render_error(code).dump();
  response.keep_alive(false);
  response.prepare_payload();
  auto message = std::make_shared<http_response>(std::move(response));
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  stream->expires_after(std::chrono::seconds{5});
  http::async_write(*stream, *message, [stream, message](beast::error_code, size_t) {
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  });
}

void http_server::refirewall_websockets(const ingress_rules& rules) {
  state_->websockets.close_where(
    [&rules](const net::ip::address& client) { return !rules.admits(client); },
    ws_close_policy_violation, "client address not allowed");
}

int64_t http_server::shutdown(std::chrono::milliseconds deadline) {
  begin_drain();
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  const auto give_up_at = std::chrono::steady_clock::now() + deadline;
  // Polling an atomic is the simplest correct wait here: shutdown happens once per process.
  while (state_->in_flight.load() > 0 && std::chrono::steady_clock::now() < give_up_at) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  const auto remaining = state_->in_flight.load();
  if (owns_io_) {
    io_->stop();
  }
  return remaining;
}

size_t http_server::close_websockets(uint16_t code, const std::string& reason,
                                     std::chrono::milliseconds deadline) {
  state_->websockets.close_all(code, reason);
  const auto give_up_at = std::chrono::steady_clock::now() + deadline;
  while (state_->websockets.size() > 0 && std::chrono::steady_clock::now() < give_up_at) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return state_->websockets.size();
}

} // namespace cxp::edge
