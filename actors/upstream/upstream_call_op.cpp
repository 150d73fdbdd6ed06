// One upstream call (stream or fetch) over a pooled or fresh connection, and how the client
// starts and stops them.
#include "actors/upstream/upstream_client_impl.hpp"
#include "common/encoding.hpp"

namespace cxp::actors {

namespace upstream_detail {

/// One call (stream or fetch). Every member is touched only on `ex_` (its io_context's one
/// thread) except the atomic `finished_`.
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
      fparser_->body_limit(
        std::min(request_.max_body_bytes.value_or(std::numeric_limits<std::uint64_t>::max()),
                 client_->options.max_unary_body_bytes));
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
        head_.headers.emplace_back(
          ascii_lowercase({field.name_string().data(), field.name_string().size()}),
          std::string{field.value()});
      }
    });
    if (!unary && handler.on_head) {
      handler.on_head(std::move(head_));
    }
    next();
  }

  /// Reads on, or completes when the parser saw the whole message.
  void next() {
    if (buffered_error_) {
      finish(map_error(buffered_error_, true));
      return;
    }
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

  /// A read parses one chunk; the chunks after it that the same read brought in are parsed now
  /// (without reading more), so the turn gets everything that has arrived in one delivery and
  /// writes to its client once. A malformed one ends the call after this delivery.
  void take_buffered() {
    while (conn_->buffer.size() > 0 && !sparser_->is_done() && sparser_->get().body().size > 0) {
      beast::error_code ec;
      const auto used = sparser_->put(conn_->buffer.data(), ec);
      conn_->buffer.consume(used);
      if (ec == http::error::need_more || ec == http::error::need_buffer || (!ec && used == 0)) {
        return;
      }
      if (ec) {
        buffered_error_ = ec;
        return;
      }
    }
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
    if (sparser_) {
      take_buffered();
    }
    const size_t got = sparser_ ? chunk_.size() - sparser_->get().body().size : 0;
    if (got == 0 || !handler.on_chunk) {
      next();
      return;
    }
    awaiting_resume_ = true;
    const bool body_complete = !buffered_error_ && sparser_->is_done();
    std::weak_ptr<call_op> weak = shared_from_this();
    handler.on_chunk(std::string{chunk_.data(), got}, body_complete, [weak] {
      if (auto self = weak.lock(); self && !self->finished_) {
        self->post_here([self] {
          if (!self->finished_ && std::exchange(self->awaiting_resume_, false)) {
            self->next();
          }
        });
      }
    });
  }

  /// Posts to `ex_`: straight from its own thread (its io_context runs, so it is not stopped),
  /// else through the client, which refuses once stopped.
  template <class F>
  void post_here(F&& f) {
    if (context_->get_executor().running_in_this_thread()) {
      net::post(ex_, std::forward<F>(f));
    } else {
      client_->post(ex_, std::forward<F>(f));
    }
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
  beast::error_code buffered_error_; ///< what take_buffered found after the chunks it delivered
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
  // At home when it has one; on a pool thread it stays there; from elsewhere it goes where a
  // connection is parked.
  auto* context = request.home != nullptr ? request.home : io->local();
  std::unique_ptr<connection> pooled;
  if (url && context != nullptr) {
    pooled = take({context, url->origin()});
  } else if (url) {
    std::tie(context, pooled) = take_any(url->origin());
  }
  if (context == nullptr) {
    context = &io->next();
  }
  net::any_io_executor ex = context->get_executor(); // one thread: no strand needed
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

} // namespace cxp::actors
