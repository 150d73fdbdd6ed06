#include "actors/upstream/upstream_client.hpp"

#include <future>

#include "actors/upstream/upstream_client_impl.hpp"

namespace cxp::actors {

namespace upstream_detail {

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

} // namespace upstream_detail

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

call_result call_and_wait(upstream_client& client, upstream_request request,
                          std::optional<steady::time_point> deadline) {
  std::promise<call_result> answered;
  auto answer = answered.get_future();
  auto call = client.fetch(
    std::move(request), [&answered](std::optional<upstream_failure> failure, upstream_reply reply) {
      answered.set_value({failure, std::move(reply)});
    });
  if (deadline && answer.wait_until(*deadline) == std::future_status::timeout) {
    call->cancel(); // `done` still runs, with `cancelled` unless the answer just came in
  }
  return answer.get();
}

} // namespace cxp::actors
