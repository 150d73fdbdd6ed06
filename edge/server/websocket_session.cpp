#include "edge/server/websocket_session.hpp"

#include <deque>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace cxp::edge {

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto handshake_timeout = std::chrono::seconds{30};
constexpr auto write_timeout = std::chrono::seconds{60};

class websocket_session : public websocket_connection,
                          public std::enable_shared_from_this<websocket_session> {
public:
  websocket_session(beast::tcp_stream stream, websocket_upgrade upgrade,
                    std::shared_ptr<websocket_set> live, boost::asio::ip::address client)
      : ws_(std::move(stream)),
        upgrade_(std::move(upgrade)),
        live_(std::move(live)),
        client_(client),
        idle_timer_(ws_.get_executor()) {}

  void run(http_request request) {
    // No permessage-deflate: frames are relayed as they are, and compression costs memory.
    websocket::permessage_deflate deflate;
    deflate.server_enable = false;
    ws_.set_option(deflate);
    ws_.read_message_max(upgrade_.max_message_bytes);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(
      websocket::stream_base::decorator([headers = upgrade_.response_headers](auto& response) {
        for (const auto& [name, value] : headers) {
          response.set(name, value);
        }
      }));
    auto shared_request = std::make_shared<http_request>(std::move(request));
    ws_.async_accept(*shared_request,
                     [self = shared_from_this(), shared_request](beast::error_code ec) {
                       if (ec) {
                         return self->ended(0, "handshake_failed");
                       }
                       self->open_ = true;
                       if (self->live_) {
                         self->live_->add(self, self->client_);
                       }
                       self->touch();
                       if (self->upgrade_.on_open) {
                         self->upgrade_.on_open(self);
                       }
                       self->do_read();
                     });
  }

  void send(std::string text, std::function<void(bool)> written) override {
    net::post(ws_.get_executor(),
              [self = shared_from_this(), t = std::move(text), w = std::move(written)]() mutable {
                if (self->done_ || self->closing_) {
                  if (w) {
                    w(false);
                  }
                  return;
                }
                self->outbox_.push_back({std::move(t), std::move(w), false, 0, {}});
                self->pump();
              });
  }

  void close(uint16_t code, std::string reason) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), code, r = std::move(reason)] {
      if (self->done_ || self->closing_) {
        return;
      }
      self->closing_ = true;
      self->outbox_.push_back({{}, {}, true, code, r});
      self->pump();
    });
  }

  boost::asio::any_io_executor executor() override { return ws_.get_executor(); }

private:
  struct outgoing {
    std::string text;
    std::function<void(bool)> written;
    bool is_close = false;
    uint16_t code = 0;
    std::string reason;
  };

  void touch() {
    idle_timer_.expires_after(upgrade_.idle_timeout);
    idle_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->done_) {
        return;
      }
      self->close(ws_close_going_away, "idle timeout");
    });
  }

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        if (ec == websocket::error::message_too_big) {
          // Beast has already sent the 1009 close frame.
          return self->ended(ws_close_too_big, "message too big");
        }
        if (ec == websocket::error::closed) {
          const auto reason = self->ws_.reason();
          return self->ended(static_cast<uint16_t>(reason.code),
                             std::string{reason.reason.data(), reason.reason.size()});
        }
        return self->ended(self->close_code_sent_ ? self->close_code_sent_ : 1006,
                           "connection lost");
      }
      self->touch();
      auto text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      if (self->upgrade_.on_message) {
        self->upgrade_.on_message(std::move(text));
      }
      self->do_read();
    });
  }

  void pump() {
    if (writing_ || outbox_.empty() || done_ || !open_) {
      return;
    }
    writing_ = true;
    auto& next = outbox_.front();
    beast::get_lowest_layer(ws_).expires_after(write_timeout);
    if (next.is_close) {
      close_code_sent_ = next.code;
      websocket::close_reason reason;
      reason.code = next.code;
      reason.reason = next.reason;
      ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {
        self->writing_ = false;
        if (!self->done_) {
          self->outbox_.pop_front();
        }
        self->ended(self->close_code_sent_, "closed by gateway");
      });
      return;
    }
    ws_.text(true);
    ws_.async_write(net::buffer(next.text),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      beast::get_lowest_layer(self->ws_).expires_never();
                      self->writing_ = false;
                      if (self->done_) {
                        return; // `ended` already reported every queued frame as unwritten
                      }
                      auto sent = std::move(self->outbox_.front());
                      self->outbox_.pop_front();
                      if (sent.written) {
                        sent.written(!ec);
                      }
                      if (ec) {
                        return self->ended(1006, "write failed");
                      }
                      self->touch();
                      self->pump();
                    });
  }

  void ended(uint16_t code, std::string reason) {
    if (done_) {
      return;
    }
    done_ = true;
    if (live_) {
      live_->remove(this);
    }
    idle_timer_.cancel();
    for (auto& pending : outbox_) {
      if (pending.written) {
        pending.written(false);
      }
    }
    outbox_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (upgrade_.on_closed) {
      auto on_closed = std::move(upgrade_.on_closed);
      on_closed(code, std::move(reason));
    }
    // Drop the route's callbacks: they may hold the route's session, which holds us.
    upgrade_.on_open = nullptr;
    upgrade_.on_message = nullptr;
  }

  websocket::stream<beast::tcp_stream> ws_;
  websocket_upgrade upgrade_;
  std::shared_ptr<websocket_set> live_;
  boost::asio::ip::address client_;
  net::steady_timer idle_timer_;
  beast::flat_buffer buffer_;
  std::deque<outgoing> outbox_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool done_ = false;
  uint16_t close_code_sent_ = 0;
};

} // namespace

bool is_websocket_upgrade(const http_request& request) {
  return websocket::is_upgrade(request);
}

void websocket_set::add(const std::shared_ptr<websocket_connection>& connection,
                        const boost::asio::ip::address& client) {
  std::lock_guard lock{mutex_};
  open_.emplace(connection.get(), open_connection{connection, client});
}

void websocket_set::remove(const websocket_connection* connection) {
  std::lock_guard lock{mutex_};
  open_.erase(connection);
}

void websocket_set::close_all(uint16_t code, const std::string& reason) {
  close_where([](const boost::asio::ip::address&) { return true; }, code, reason);
}

void websocket_set::close_where(const std::function<bool(const boost::asio::ip::address&)>& matches,
                                uint16_t code, const std::string& reason) {
  std::vector<std::shared_ptr<websocket_connection>> open;
  {
    std::lock_guard lock{mutex_};
    for (const auto& [key, entry] : open_) {
      if (!matches(entry.client)) {
        continue;
      }
      if (auto connection = entry.connection.lock()) {
        open.push_back(std::move(connection));
      }
    }
  }
  // Outside the lock: a close that ends a session at once removes it from this set.
  for (const auto& connection : open) {
    connection->close(code, reason);
  }
}

size_t websocket_set::size() const {
  std::lock_guard lock{mutex_};
  return open_.size();
}

void start_websocket_session(beast::tcp_stream stream, http_request request,
                             websocket_upgrade upgrade, std::shared_ptr<websocket_set> live,
                             boost::asio::ip::address client) {
  beast::get_lowest_layer(stream).expires_never();
  std::make_shared<websocket_session>(std::move(stream), std::move(upgrade), std::move(live),
                                      client)
    ->run(std::move(request));
}

} // namespace cxp::edge
