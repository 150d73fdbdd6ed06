#include "actors/upstream/upstream_client.hpp"

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

std::optional<parsed_url> parse_url(std::string_view url) {
  parsed_url out;
  out.tls = url.substr(0, 8) == "https://";
  if (!out.tls && url.substr(0, 7) != "http://") {
    return std::nullopt;
  }
  url.remove_prefix(out.tls ? 8 : 7);
  // Control characters or spaces would corrupt the request line.
  if (std::any_of(url.begin(), url.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
    return std::nullopt;
  }
  url = url.substr(0, url.find('#'));
  const auto end = std::min(url.find_first_of("/?"), url.size());
  auto host = url.substr(0, end);
  auto rest = url.substr(end);
  out.target = rest.empty() || rest.front() != '/' ? "/" + std::string{rest} : std::string{rest};
  const unsigned default_port = out.tls ? 443 : 80;
  unsigned port = default_port;
  // A colon inside IPv6 brackets is not a port separator.
  if (auto colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    auto digits = host.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    host = host.substr(0, colon);
  }
  const bool ipv6 = !host.empty() && host.front() == '[';
  if (host.empty() || host.find('@') != std::string_view::npos
      || (ipv6 && (host.size() < 3 || host.back() != ']'))) {
    return std::nullopt;
  }
  out.host = std::string{ipv6 ? host.substr(1, host.size() - 2) : host};
  out.port = std::to_string(port);
  out.host_header = std::string{host} + (port == default_port ? "" : ":" + out.port);
  return out;
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::end_of_stream).category();
}

/// The peer went away (as opposed to a timeout or garbage).
bool is_disconnect(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message
         || ec == net::error::eof || ec == net::error::connection_reset
         || ec == net::error::connection_aborted || ec == net::error::broken_pipe
         || ec == ssl::error::stream_truncated;
}

upstream_failure map_error(const beast::error_code& ec, bool in_body) {
  if (ec == beast::error::timeout) {
    return in_body ? upstream_failure::idle_timeout : upstream_failure::first_byte_timeout;
  }
  if (ec == http::error::body_limit) {
    return upstream_failure::body_too_large;
  }
  if (is_http_error(ec) && !is_disconnect(ec)) {
    return upstream_failure::protocol_error;
  }
  return in_body ? upstream_failure::closed_mid_body : upstream_failure::closed_before_head;
}

/// One plain or TLS connection; the rest of the client is written once against it.
class connection {
public:
  using plain_stream = beast::tcp_stream;
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;

  connection(net::any_io_executor ex, ssl::context* tls)
      : executor(ex),
        stream_(make(std::move(ex), tls)) {}

  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }
  beast::tcp_stream& tcp() {
    return visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); });
  }
  tls_stream* tls() { return std::get_if<tls_stream>(&stream_); }
  void close() { tcp().close(); }

  net::any_io_executor executor; ///< the strand every operation on this connection runs on
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

namespace upstream_detail {

/// One call (stream or fetch). Every member is touched only on `ex_` (a strand) except the
/// atomic `finished_`.
class call_op : public upstream_call, public std::enable_shared_from_this<call_op> {
public:
  call_op(std::shared_ptr<upstream_client::impl> client, upstream_request request,
          std::optional<parsed_url> url, net::io_context& context, net::any_io_executor ex,
          std::unique_ptr<connection> pooled)
      : client_(std::move(client)),
        request_(std::move(request)),
        url_(std::move(url)),
        context_(&context),
        ex_(std::move(ex)),
        resolver_(ex_),
        timer_(ex_),
        conn_(std::move(pooled)),
        reused_(conn_ != nullptr) {}

  upstream_stream_handler handler;
  done_fn done;
  bool unary = false; ///< fetch: `done` instead of `handler`

  const net::any_io_executor& executor() const { return ex_; }

  void cancel() override {
    if (!finished_) {
      client_->post(ex_,
                    [self = shared_from_this()] { self->finish(upstream_failure::cancelled); });
    }
  }

  void start() {
    if (finished_) {
      return;
    }
    if (!url_) {
      finish(upstream_failure::bad_url);
    } else if (conn_) {
      send();
    } else {
      connect();
    }
  }

  /// Ends the call once; parks the connection when the exchange ended cleanly.
  void finish(std::optional<upstream_failure> failure, bool keep_alive = false) {
    if (finished_.exchange(true)) {
      return;
    }
    timer_.cancel();
    resolver_.cancel();
    if (conn_ && !failure && keep_alive) {
      conn_->tcp().expires_never();
      client_->park({context_, url_->origin()}, std::move(conn_));
    } else if (conn_) {
      conn_->close(); // pending operations complete later and see `finished_`
    }
    client_->unregister(this);
    if (unary && done) {
      upstream_reply reply;
      if (!failure) {
        reply.head = std::move(head_);
        reply.body = std::move(fparser_->get().body());
      }
      done(failure, std::move(reply));
    } else if (!unary && handler.on_done) {
      handler.on_done(failure);
    }
    handler = {};
    done = {};
  }

private:
  template <class F>
  decltype(auto) with_parser(F&& f) {
    return sparser_ ? f(*sparser_) : f(*fparser_);
  }

  void connect() {
    conn_ = std::make_unique<connection>(ex_, url_->tls ? &client_->tls : nullptr);
    if (url_->tls && !client_->tls_ok) {
      finish(upstream_failure::connect_failed);
      return;
    }
    connecting_ = true;
    deadline_ = steady::now() + request_.timeouts.connect;
    // The resolver has no timeout of its own.
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->connecting_) {
        self->finish(upstream_failure::connect_failed);
      }
    });
    resolver_.async_resolve(
      url_->host, url_->port,
      [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
        self->on_resolve(ec, std::move(results));
      });
  }

  /// True when the call is over: before, or now because of `ec`.
  bool ended(beast::error_code ec, upstream_failure failure) {
    if (ec && !finished_) {
      finish(failure);
    }
    return finished_;
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ended(ec, upstream_failure::connect_failed)) {
      return;
    }
    conn_->tcp().expires_at(deadline_);
    conn_->tcp().async_connect(
      results, [self = shared_from_this()](beast::error_code ec2, const tcp::endpoint&) {
        self->on_connect(ec2);
      });
  }

  void on_connect(beast::error_code ec) {
    if (ended(ec, upstream_failure::connect_failed)) {
      return;
    }
    conn_->tcp().socket().set_option(tcp::no_delay{true}, ec);
    auto* tls = conn_->tls();
    if (tls == nullptr) {
      connected();
      return;
    }
    net::ip::make_address(url_->host, ec);
    const bool is_ip = !ec;
    // SNI must not carry an IP literal (RFC 6066).
    if (!is_ip && SSL_set_tlsext_host_name(tls->native_handle(), url_->host.c_str()) != 1) {
      finish(upstream_failure::connect_failed);
      return;
    }
    if (client_->options.verify_tls) {
      tls->set_verify_callback(ssl::host_name_verification(url_->host), ec);
    }
    conn_->tcp().expires_at(deadline_);
    tls->async_handshake(ssl::stream_base::client,
                         [self = shared_from_this()](beast::error_code ec2) {
                           if (!self->ended(ec2, upstream_failure::connect_failed)) {
                             self->connected();
                           }
                         });
  }

  void connected() {
    connecting_ = false;
    timer_.cancel();
    send();
  }

  void send() {
    if (!req_) {
      try {
        build_request();
      } catch (const std::exception&) {
        // Beast rejects oversized header names and values by throwing.
        finish(upstream_failure::protocol_error);
        return;
      }
    }
    conn_->tcp().expires_after(request_.timeouts.first_byte);
    conn_->visit([this](auto& s) {
      http::async_write(s, *req_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_write(ec);
      });
    });
  }

  void build_request() {
    req_.emplace(request_.method, url_->target, 11);
    req_->set(http::field::host, url_->host_header);
    for (const auto& [name, value] : request_.headers) {
      if (beast::iequals(name, "host")) {
        req_->set(http::field::host, value);
      } else {
        req_->insert(name, value);
      }
    }
    req_->keep_alive(true);
    req_->body() = std::move(request_.body);
    req_->prepare_payload();
  }

  void on_write(beast::error_code ec) {
    if (finished_) {
      return;
    }
    if (ec) {
      if (reused_ && ec != beast::error::timeout) {
        retry();
      } else {
        finish(map_error(ec, false));
      }
      return;
    }
    conn_->tcp().expires_after(request_.timeouts.first_byte);
    auto on_header = [self = shared_from_this()](beast::error_code ec2, size_t) {
      self->on_header(ec2);
    };
    if (unary) {
      fparser_.emplace();
      fparser_->body_limit(client_->options.max_unary_body_bytes);
    } else {
      sparser_.emplace();
      // Not boost::none: Boost 1.74 compares a content length against an empty limit as "over".
      sparser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      chunk_.resize(chunk_buffer_bytes);
    }
    with_parser([&](auto& p) {
      p.header_limit(header_limit_bytes);
      p.skip(request_.method == http::verb::head); // a HEAD answer has no body to wait for
      conn_->visit([&](auto& s) { http::async_read_header(s, conn_->buffer, p, on_header); });
    });
  }

  void on_header(beast::error_code ec) {
    if (finished_) {
      return;
    }
    if (ec) {
      const bool got_some = with_parser([](auto& p) { return p.got_some(); });
      if (reused_ && !got_some && is_disconnect(ec)) {
        retry();
      } else {
        finish(map_error(ec, false));
      }
      return;
    }
    with_parser([this](auto& p) {
      head_.status = p.get().result_int();
      for (const auto& field : p.get()) {
        std::string name{field.name_string()};
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        head_.headers.emplace_back(std::move(name), std::string{field.value()});
      }
    });
    if (!unary && handler.on_head) {
      handler.on_head(std::move(head_));
    }
    next();
  }

  /// Reads on, or completes when the parser saw the whole message.
  void next() {
    if (with_parser([](auto& p) { return p.is_done(); })) {
      const bool keep_alive = with_parser([](auto& p) { return p.get().keep_alive(); });
      finish(std::nullopt, keep_alive && conn_->buffer.size() == 0);
      return;
    }
    conn_->tcp().expires_after(request_.timeouts.idle);
    auto on_body = [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_body(ec);
    };
    if (sparser_) {
      auto& body = sparser_->get().body();
      body.data = chunk_.data();
      body.size = chunk_.size();
      body.more = true;
    }
    with_parser([&](auto& p) {
      conn_->visit([&](auto& s) { http::async_read_some(s, conn_->buffer, p, on_body); });
    });
  }

  void on_body(beast::error_code ec) {
    if (finished_) {
      return;
    }
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      finish(map_error(ec, true));
      return;
    }
    const size_t got = sparser_ ? chunk_.size() - sparser_->get().body().size : 0;
    if (got == 0 || !handler.on_chunk) {
      next();
      return;
    }
    awaiting_resume_ = true;
    std::weak_ptr<call_op> weak = shared_from_this();
    handler.on_chunk(std::string{chunk_.data(), got}, [weak] {
      if (auto self = weak.lock(); self && !self->finished_) {
        self->client_->post(self->ex_, [self] {
          if (!self->finished_ && std::exchange(self->awaiting_resume_, false)) {
            self->next();
          }
        });
      }
    });
  }

  /// The parked connection was stale: one more try on a fresh one.
  void retry() {
    reused_ = false;
    conn_->close();
    conn_.reset();
    sparser_.reset();
    fparser_.reset();
    connect();
  }

  std::shared_ptr<upstream_client::impl> client_;
  upstream_request request_;
  std::optional<parsed_url> url_;
  net::io_context* context_; ///< where `ex_` runs; connections are parked per io_context
  net::any_io_executor ex_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  std::unique_ptr<connection> conn_;
  bool reused_ = false;
  bool connecting_ = false;
  bool awaiting_resume_ = false;
  steady::time_point deadline_;
  std::atomic<bool> finished_{false};
  std::optional<http::request<http::string_body>> req_;
  std::optional<http::response_parser<http::buffer_body>> sparser_;
  std::optional<http::response_parser<http::string_body>> fparser_;
  std::vector<char> chunk_;
  upstream_head head_;
};

} // namespace upstream_detail

std::shared_ptr<upstream_call> upstream_client::impl::start(upstream_request request,
                                                            upstream_stream_handler* handler,
                                                            done_fn* done) {
  auto url = parse_url(request.url);
  // On a pool thread the call stays there; from elsewhere it goes where a connection is parked.
  auto* context = io->local();
  std::unique_ptr<connection> pooled;
  if (url && context != nullptr) {
    pooled = take({context, url->origin()});
  } else if (url) {
    std::tie(context, pooled) = take_any(url->origin());
  }
  if (context == nullptr) {
    context = &io->next();
  }
  net::any_io_executor ex = pooled ? pooled->executor : net::make_strand(*context);
  auto call = std::make_shared<call_op>(shared_from_this(), std::move(request), std::move(url),
                                        *context, ex, std::move(pooled));
  if (handler != nullptr) {
    call->handler = std::move(*handler);
  } else {
    call->unary = true;
    call->done = std::move(*done);
  }
  {
    std::lock_guard lock{mutex};
    if (!stopped) {
      calls.emplace(call.get(), call);
      net::post(ex, [call] { call->start(); });
      return call;
    }
  }
  call->finish(upstream_failure::cancelled); // no thread is left to report it asynchronously
  return call;
}

void upstream_client::impl::stop() {
  std::vector<std::shared_ptr<call_op>> live;
  std::map<pool_key, std::deque<parked_connection>> parked;
  {
    std::lock_guard lock{mutex};
    if (stopped) {
      return;
    }
    stopped = true;
    for (auto& [raw, call] : calls) {
      live.push_back(call);
    }
    parked.swap(idle);
    idle_count = 0;
  }
  for (auto& call : live) {
    net::post(call->executor(), [call] { call->finish(upstream_failure::cancelled); });
  }
  live.clear();
  if (owns_io) {
    io->join();
  }
}

std::string_view upstream_head::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, beast::string_view{name.data(), name.size()})) {
      return value;
    }
  }
  return {};
}

std::string_view to_string(upstream_failure failure) {
  // In enumerator order.
  static constexpr std::string_view names[] = {
    "bad_url",         "connect_failed", "closed_before_head", "first_byte_timeout", "idle_timeout",
    "closed_mid_body", "body_too_large", "protocol_error",     "cancelled"};
  const auto index = static_cast<size_t>(failure);
  return index < std::size(names) ? names[index] : "unknown";
}

upstream_client::upstream_client(upstream_client_options options)
    : impl_(std::make_shared<impl>(std::move(options))) {
  impl_->start_threads();
}

upstream_client::~upstream_client() {
  stop();
}

std::shared_ptr<upstream_call> upstream_client::stream(upstream_request request,
                                                       upstream_stream_handler handler) {
  return impl_->start(std::move(request), &handler, nullptr);
}

std::shared_ptr<upstream_call>
upstream_client::fetch(upstream_request request,
                       std::function<void(std::optional<upstream_failure>, upstream_reply)> done) {
  return impl_->start(std::move(request), nullptr, &done);
}

size_t upstream_client::idle_connections() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->idle_count;
}

void upstream_client::stop() {
  impl_->stop();
}

} // namespace cxp::actors
