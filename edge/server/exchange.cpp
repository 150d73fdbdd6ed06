#include "edge/server/exchange.hpp"

#include <boost/beast/http/field.hpp>

#include "common/log.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/server/websocket_session.hpp"

namespace cxp::edge {

namespace {

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size()
               && std::isxdigit(static_cast<unsigned char>(text[i + 1]))
               && std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string{text.substr(i + 1, 2)}, nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

} // namespace

exchange::exchange(http_request request, std::string client_ip, reply_fn reply, stream_fn stream,
                   upgrade_fn upgrade)
    : request_(std::move(request)),
      client_ip_(std::move(client_ip)),
      reply_(std::move(reply)),
      stream_(std::move(stream)),
      upgrade_(std::move(upgrade)) {}

std::string_view exchange::param(std::string_view name) const {
  auto it = params_.find(name);
  return it == params_.end() ? std::string_view{} : std::string_view{it->second};
}

std::string_view exchange::path() const {
  std::string_view target{request_.target().data(), request_.target().size()};
  return target.substr(0, target.find('?'));
}

std::optional<std::string> exchange::query(std::string_view name) const {
  std::string_view target{request_.target().data(), request_.target().size()};
  auto question = target.find('?');
  if (question == std::string_view::npos) {
    return std::nullopt;
  }
  auto rest = target.substr(question + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    rest = rest.substr(amp + 1);
  }
  return std::nullopt;
}

void exchange::respond(http_response response) {
  if (responded_.exchange(true)) {
    return;
  }
  reply_(std::move(response));
}

std::shared_ptr<reply_stream> exchange::respond_stream(http_stream_head head) {
  if (!stream_ || responded_.exchange(true)) {
    return nullptr;
  }
  return stream_(std::move(head));
}

bool exchange::accept_websocket(websocket_upgrade upgrade) {
  if (!upgrade_ || !is_websocket_upgrade(request_) || responded_.exchange(true)) {
    return false;
  }
  upgrade_(std::move(upgrade));
  return true;
}

void exchange::respond_json(http::status status, const nlohmann::json& body) {
  http_response response{status, request_.version()};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  respond(std::move(response));
}

void exchange::respond_error(errc code, std::optional<std::string> message,
                             std::optional<std::string> param) {
  respond_json(lookup_error(code).status, render_error(code, std::move(message), std::move(param)));
}

void exchange::respond_error(const caf::error& error) {
  const auto code = to_errc(error);
  if (code == errc::internal_error || code == errc::database_unavailable) {
    log::warn("edge", "request failed", {{"route", route_name_}, {"error", context_of(error)}});
  }
  respond_error(code);
}

} // namespace cxp::edge
