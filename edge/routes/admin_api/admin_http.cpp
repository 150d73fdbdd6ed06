#include "edge/routes/admin_api/admin_http.hpp"

#include <boost/beast/http/field.hpp>

#include "common/json_input.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/server/actor_bridge.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::edge {

namespace {

constexpr auto admin_timeout = std::chrono::seconds{15};

bool is_state_changing(http::verb method) {
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

std::string header_value(const exchange& ex, std::string_view name) {
  auto it = ex.request().find(boost::beast::string_view{name.data(), name.size()});
  return it == ex.request().end() ? std::string{} : std::string{it->value()};
}

} // namespace

std::string cookie_value(const exchange& ex, std::string_view name) {
  const auto header = header_value(ex, "cookie");
  size_t start = 0;
  while (start < header.size()) {
    auto end = header.find(';', start);
    if (end == std::string::npos) {
      end = header.size();
    }
    auto pair = std::string_view{header}.substr(start, end - start);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    if (auto eq = pair.find('='); eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string{pair.substr(eq + 1)};
    }
    start = end + 1;
  }
  return {};
}

std::string make_cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age,
                        bool script_readable) {
  std::string cookie = std::string{name} + "=" + std::string{value}
                       + "; Path=/; SameSite=Strict; Max-Age=" + std::to_string(max_age.count());
  if (!script_readable) {
    cookie += "; HttpOnly";
  }
  return cookie;
}

std::optional<std::string> query_param(const exchange& ex, const char* name) {
  auto value = ex.query(name);
  return value && !value->empty() ? value : std::nullopt;
}

caf::expected<admin_reply> json_reply(caf::expected<nlohmann::json> body) {
  if (!body) {
    return body.error();
  }
  return admin_reply{http::status::ok, std::move(*body), {}};
}

domain::page_request page_from_query(const exchange& ex) {
  domain::page_request page;
  if (auto limit = ex.query("limit")) {
    try {
      page.limit = std::clamp(std::stoi(*limit), 1, domain::page_request::max_limit);
    } catch (const std::exception&) {
      page.limit = domain::page_request::default_limit;
    }
  }
  if (auto cursor = ex.query("cursor"); cursor && !cursor->empty()) {
    page.cursor = *cursor;
  }
  return page;
}

void respond_admin_error(const exchange_ptr& ex, const caf::error& error) {
  const auto code = to_errc(error);
  if (code != errc::validation_failed) {
    ex->respond_error(error);
    return;
  }
  auto fields = field_errors_of(error);
  std::string message = "Validation failed";
  std::optional<std::string> param;
  for (const auto& [field, text] : fields) {
    message += (param ? "; " : ": ") + field + " " + text;
    if (!param) {
      param = field;
    }
  }
  auto body = render_error(code, message, param);
  body["error"]["fields"] = fields;
  ex->respond_json(lookup_error(code).status, body);
}

void run_admin(const admin_runtime& runtime, const exchange_ptr& ex, admin_access access,
               admin_work work) {
  auto body = nlohmann::json::object();
  const auto& request = ex->request();
  if (!request.body().empty()) {
    if (header_value(*ex, "content-type").find("application/json") == std::string::npos) {
      return ex->respond_error(errc::unsupported_media_type);
    }
    // Nesting is bounded before anything walks the document (an auth_json import is dumped).
    if (auto problem = parse_untrusted(request.body(), body)) {
      return ex->respond_error(errc::invalid_request, problem->message);
    }
    if (!body.is_object()) {
      return ex->respond_error(errc::invalid_request, "The request body must be a JSON object.");
    }
  }
  const bool state_changing = is_state_changing(request.method());
  const auto csrf_header = header_value(*ex, csrf_header_name);
  if (access == admin_access::anonymous && state_changing) {
    const auto csrf_cookie = cookie_value(*ex, csrf_cookie_name);
    if (csrf_header.empty() || !persistence::constant_time_equals(csrf_header, csrf_cookie)) {
      return ex->respond_error(errc::csrf_token_invalid);
    }
  }
  const auto session_token = cookie_value(*ex, session_cookie_name);
  if (access == admin_access::session && session_token.empty()) {
    return ex->respond_error(errc::unauthenticated);
  }
  const auto password_route = ex->route_name() == "/admin/api/session/password";
  run_db<admin_reply>(
    runtime.system, runtime.db_pool, admin_timeout,
    [&services = runtime.services, throttle = runtime.throttle, access, session_token, csrf_header,
     state_changing, password_route, body = std::move(body), work = std::move(work),
     client_ip = ex->client_ip()](persistence::database&) -> caf::expected<admin_reply> {
      domain::principal who;
      who.client_ip = client_ip;
      if (access == admin_access::session) {
        domain::operator_sessions sessions{services, *throttle};
        auto session = sessions.authenticate_session(session_token);
        if (!session) {
          return session.error();
        }
        if (state_changing && !sessions.verify_csrf(*session, csrf_header)) {
          return make_error(errc::csrf_token_invalid);
        }
        if (session->user.password_change_required && !password_route) {
          return make_error(errc::password_change_required);
        }
        who = session->who;
        who.client_ip = client_ip;
      }
      return work(who, body);
    },
    [ex](caf::expected<admin_reply> reply) {
      if (!reply) {
        return respond_admin_error(ex, reply.error());
      }
      http_response response{reply->status, ex->request().version()};
      response.set(http::field::content_type, "application/json");
      response.set(http::field::cache_control, "no-store");
      for (const auto& cookie : reply->cookies) {
        // Secure only when the client reached us over TLS: over plain HTTP (a local
        // install) a Secure cookie would never come back.
        response.insert(http::field::set_cookie,
                        ex->secure_transport() ? cookie + "; Secure" : cookie);
      }
      response.body() = reply->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      ex->respond(std::move(response));
    });
}

} // namespace cxp::edge
