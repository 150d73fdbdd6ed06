#include "actors/pricing/pricing_download.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/errc.hpp"
#include "common/log.hpp"

namespace cxp::actors {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr uint32_t max_header_bytes = 64 * 1024;
constexpr unsigned http_ok = 200;

/// Where one GET goes.
struct feed_url {
  bool tls = false;
  std::string host; ///< without IPv6 brackets
  std::string port;
  std::string host_header;
  std::string target;

  std::string origin() const { return (tls ? "https://" : "http://") + host_header; }
};

/// An absolute http(s) URL without credentials or spaces, split; nullopt otherwise.
std::optional<feed_url> parse_feed_url(std::string_view url) {
  feed_url out;
  out.tls = url.substr(0, 8) == "https://";
  if (!out.tls && url.substr(0, 7) != "http://") {
    return std::nullopt;
  }
  url.remove_prefix(out.tls ? 8 : 7);
  if (std::any_of(url.begin(), url.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
    return std::nullopt;
  }
  url = url.substr(0, url.find('#'));
  const auto end = std::min(url.find_first_of("/?"), url.size());
  auto authority = url.substr(0, end);
  const auto rest = url.substr(end);
  out.target = rest.empty() || rest.front() != '/' ? "/" + std::string{rest} : std::string{rest};
  const unsigned default_port = out.tls ? 443 : 80;
  unsigned port = default_port;
  out.host_header = std::string{authority};
  if (auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    const auto digits = authority.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
      return std::nullopt;
    }
    authority = authority.substr(0, colon);
  }
  const bool ipv6 = !authority.empty() && authority.front() == '[';
  if (authority.empty() || authority.find('@') != std::string_view::npos
      || (ipv6 && (authority.size() < 3 || authority.back() != ']'))) {
    return std::nullopt;
  }
  out.host = std::string{ipv6 ? authority.substr(1, authority.size() - 2) : authority};
  out.port = std::to_string(port);
  return out;
}

caf::error fetch_failed(std::string why) {
  return make_error(errc::upstream_request_failed, std::move(why));
}

/// One GET on a fresh connection, its steps chained on an io_context the caller runs. Every
/// member outlives the handlers that reference it, which only run inside that `run`.
class feed_get {
public:
  feed_get(net::io_context& io, ssl::context& tls, const feed_url& url, size_t max_bytes)
      : url_(url),
        max_bytes_(max_bytes),
        resolver_(io) {
    if (url.tls) {
      secure_.emplace(io, tls);
    } else {
      plain_.emplace(io);
    }
    request_.version(11);
    request_.method(http::verb::get);
    request_.target(url.target);
    request_.set(http::field::host, url.host_header);
    request_.set(http::field::user_agent, "codex-pooler pricing import");
    request_.set(http::field::accept, "application/json");
    request_.set(http::field::accept_encoding, "identity");
    request_.set(http::field::connection, "close");
    parser_.header_limit(max_header_bytes);
    parser_.body_limit(max_bytes);
  }

  void start() {
    resolver_.async_resolve(url_.host, url_.port,
                            [this](beast::error_code ec, const tcp::resolver::results_type& hosts) {
                              if (ec) {
                                return fail("resolving the host failed: " + ec.message());
                              }
                              connect(hosts);
                            });
  }

  bool finished() const { return finished_; }
  const std::string& error() const { return error_; }
  http::response<http::string_body>& response() { return parser_.get(); }

private:
  void connect(const tcp::resolver::results_type& hosts) {
    auto& socket = plain_ ? plain_->socket() : beast::get_lowest_layer(*secure_).socket();
    net::async_connect(socket, hosts, [this](beast::error_code ec, const tcp::endpoint&) {
      if (ec) {
        return fail("connecting failed: " + ec.message());
      }
      if (plain_) {
        return exchange(*plain_);
      }
      handshake();
    });
  }

  void handshake() {
    beast::error_code ec;
    net::ip::make_address(url_.host, ec);
    // SNI must not carry an IP literal (RFC 6066).
    if (ec && SSL_set_tlsext_host_name(secure_->native_handle(), url_.host.c_str()) != 1) {
      return fail("TLS setup failed");
    }
    secure_->set_verify_callback(ssl::host_name_verification(url_.host), ec);
    if (ec) {
      return fail("TLS setup failed: " + ec.message());
    }
    secure_->async_handshake(ssl::stream_base::client, [this](beast::error_code failure) {
      if (failure) {
        return fail("the TLS handshake failed: " + failure.message());
      }
      exchange(*secure_);
    });
  }

  template <class Stream>
  void exchange(Stream& stream) {
    // The stream is a member: handlers hold its address, never a reference to a reference.
    http::async_write(stream, request_, [this, s = &stream](beast::error_code ec, size_t) {
      if (ec) {
        return fail("sending the request failed: " + ec.message());
      }
      http::async_read_header(*s, buffer_, parser_, [this, s](beast::error_code failure, size_t) {
        // Beast 1.74 loses the body-limit error of a Content-Length when an eager read finds
        // the body right behind the header, so the header is read on its own first and its
        // declared length checked; the limit still bounds chunked bodies.
        if (failure == http::error::body_limit
            || (!failure && parser_.content_length().value_or(0) > max_bytes_)) {
          return too_large();
        }
        if (failure) {
          return fail("reading the response failed: " + failure.message());
        }
        http::async_read(*s, buffer_, parser_, [this](beast::error_code error, size_t) {
          if (error == http::error::body_limit) {
            return too_large();
          }
          if (error) {
            return fail("reading the response failed: " + error.message());
          }
          finished_ = true;
        });
      });
    });
  }

  void too_large() { fail("the feed is larger than " + std::to_string(max_bytes_) + " bytes"); }

  void fail(std::string why) {
    error_ = std::move(why);
    finished_ = true;
  }

  feed_url url_;
  size_t max_bytes_;
  tcp::resolver resolver_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  bool finished_ = false;
  std::string error_;
};

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

} // namespace

caf::expected<std::string> fetch_pricing_feed(const std::string& url,
                                              const pricing_fetch_limits& limits) {
  const auto deadline = steady::now() + limits.timeout;
  ssl::context tls{ssl::context::tls_client};
  beast::error_code ec;
  tls.set_verify_mode(ssl::verify_peer, ec);
  tls.set_default_verify_paths(ec);
  std::string current = url;
  for (int redirects = 0;; ++redirects) {
    const auto target = parse_feed_url(current);
    if (!target) {
      return fetch_failed("not an absolute http or https URL");
    }
    net::io_context io;
    feed_get get{io, tls, *target, limits.max_bytes};
    get.start();
    io.run_until(deadline);
    if (!get.finished()) {
      return fetch_failed("timed out after " + std::to_string(limits.timeout.count()) + " ms");
    }
    if (!get.error().empty()) {
      return fetch_failed(get.error());
    }
    auto& response = get.response();
    const auto status = response.result_int();
    if (is_redirect(status)) {
      const auto location = std::string{response[http::field::location]};
      if (redirects >= limits.max_redirects) {
        return fetch_failed("more than " + std::to_string(limits.max_redirects) + " redirects");
      }
      if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
        current = location;
      } else if (location.rfind('/', 0) == 0 && location.rfind("//", 0) != 0) {
        current = target->origin() + location;
      } else {
        return fetch_failed("a redirect without a usable Location");
      }
      continue;
    }
    if (status != http_ok) {
      return fetch_failed("the feed URL answered HTTP " + std::to_string(status));
    }
    return std::move(response.body());
  }
}

domain::pricing_import_result import_pricing_from_url(persistence::database& db,
                                                      const std::string& url,
                                                      const pricing_fetch_limits& limits) {
  auto text = fetch_pricing_feed(url, limits);
  if (!text) {
    domain::pricing_import_result out;
    out.outcome = domain::pricing_import_outcome::failed;
    out.reason = "download failed: " + context_of(text.error());
    log::warn("pricing", "pricing feed download failed",
              {{"source_url", url.substr(0, url.find_first_of("?#"))}, {"reason", out.reason}});
    return out;
  }
  return domain::import_pricing_feed(db, *text, url);
}

} // namespace cxp::actors
