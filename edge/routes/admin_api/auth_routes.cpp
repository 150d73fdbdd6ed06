#include "common/encoding.hpp"
#include "domain/admin_input.hpp"
#include "domain/operators/invite_service.hpp"
#include "domain/operators/operator_credentials.hpp"
#include "domain/operators/operator_service.hpp"
#include "domain/operators/operator_sessions.hpp"
#include "edge/routes/admin_api/admin_body.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"
#include "persistence/crypto/secret_box.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;
using namespace domain;

constexpr auto session_max_age = std::chrono::hours{24 * 14};
constexpr size_t anonymous_csrf_bytes = 24;

json user_json(const operator_view& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"display_name", user.display_name},
          {"role", user.role},
          {"password_change_required", user.password_change_required}};
}

/// Gives an anonymous browser a double-submit CSRF token when it has none yet.
void ensure_anonymous_csrf(const exchange& ex, admin_reply& reply) {
  auto token = cookie_value(ex, csrf_cookie_name);
  if (token.empty()) {
    token = to_base64url(random_bytes(anonymous_csrf_bytes));
    reply.cookies.push_back(make_cookie(csrf_cookie_name, token, session_max_age, true));
  }
  reply.body["csrf_token"] = token;
}

} // namespace

void add_auth_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/bootstrap/status", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::anonymous,
              [&runtime, ex](const principal&, const json&) -> caf::expected<admin_reply> {
                auto status = operator_service{runtime.services}.bootstrap_status();
                if (!status) {
                  return status.error();
                }
                admin_reply reply;
                reply.body = {{"status", "ok"}, {"bootstrap", *status}};
                ensure_anonymous_csrf(*ex, reply);
                return reply;
              });
  });

  routes.add(http::verb::post, "/bootstrap", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::anonymous,
              [&runtime](const principal& who, const json& body) -> caf::expected<admin_reply> {
                admin_body in{body};
                bootstrap_request request{in.text("email").value_or(""),
                                          in.text("password").value_or(""),
                                          in.text("display_name").value_or("")};
                if (auto invalid = in.error()) {
                  return std::move(*invalid);
                }
                auto user = operator_service{runtime.services}.bootstrap(who, request);
                if (!user) {
                  return user.error();
                }
                return admin_reply{http::status::created, {{"user", to_json(*user)}}, {}};
              });
  });

  routes.add(http::verb::get, "/session", [&runtime](const exchange_ptr& ex) {
    const auto token = cookie_value(*ex, session_cookie_name);
    run_admin(runtime, ex, admin_access::session,
              [&runtime, token](const principal&, const json&) -> caf::expected<admin_reply> {
                auto session =
                  operator_sessions{runtime.services, *runtime.throttle}.authenticate_session(
                    token);
                if (!session) {
                  return session.error();
                }
                admin_reply reply;
                reply.body = {
                  {"status", "ok"}, {"authenticated", true}, {"user", user_json(session->user)}};
                return reply;
              });
  });

  routes.add(http::verb::post, "/admin/api/session", [&runtime](const exchange_ptr& ex) {
    const auto user_agent = std::string{ex->request()[http::field::user_agent]};
    run_admin(
      runtime, ex, admin_access::anonymous,
      [&runtime, user_agent](const principal& who, const json& body) -> caf::expected<admin_reply> {
        admin_body in{body};
        login_request request{in.text("email").value_or(""),
                              in.text("password").value_or(""),
                              in.text("totp_code"),
                              in.text("recovery_code"),
                              who.client_ip,
                              user_agent};
        if (auto invalid = in.error()) {
          return std::move(*invalid);
        }
        auto result = operator_sessions{runtime.services, *runtime.throttle}.login(request);
        if (!result) {
          if (is_totp_required(result.error())) {
            return make_error(errc::totp_required);
          }
          return result.error();
        }
        admin_reply reply;
        reply.body = {{"user", user_json(result->user)},
                      {"csrf_token", result->tokens.csrf_token.expose()},
                      {"expires_at", result->tokens.expires_at}};
        reply.cookies.push_back(
          make_cookie(session_cookie_name, result->tokens.session_token.expose(), session_max_age));
        reply.cookies.push_back(
          make_cookie(csrf_cookie_name, result->tokens.csrf_token.expose(), session_max_age, true));
        return reply;
      });
  });

  routes.add(http::verb::delete_, "/admin/api/session", [&runtime](const exchange_ptr& ex) {
    const auto token = cookie_value(*ex, session_cookie_name);
    run_admin(
      runtime, ex, admin_access::session,
      [&runtime, token](const principal&, const json&) -> caf::expected<admin_reply> {
        operator_sessions operators{runtime.services, *runtime.throttle};
        auto session = operators.authenticate_session(token);
        if (!session) {
          return session.error();
        }
        if (auto done = operators.logout(*session); !done) {
          return done.error();
        }
        admin_reply reply;
        reply.body = {{"status", "logged_out"}};
        reply.cookies.push_back(make_cookie(session_cookie_name, "", std::chrono::seconds{0}));
        reply.cookies.push_back(make_cookie(csrf_cookie_name, "", std::chrono::seconds{0}, true));
        return reply;
      });
  });

  routes.add(http::verb::post, "/admin/api/session/password", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime](const principal& who, const json& body) -> caf::expected<admin_reply> {
                admin_body in{body};
                auto current = in.text("current_password").value_or("");
                auto next = in.text("new_password").value_or("");
                if (auto invalid = in.error()) {
                  return std::move(*invalid);
                }
                auto done =
                  operator_credentials{runtime.services}.change_password(who, current, next);
                if (!done) {
                  return done.error();
                }
                return admin_reply{http::status::ok, {{"status", "password_changed"}}, {}};
              });
  });

  routes.add(http::verb::post, "/admin/api/session/totp", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime](const principal& who, const json&) -> caf::expected<admin_reply> {
                auto enrollment = operator_credentials{runtime.services}.begin_totp(who);
                if (!enrollment) {
                  return enrollment.error();
                }
                return admin_reply{http::status::ok,
                                   {{"secret", enrollment->secret_base32.expose()},
                                    {"otpauth_uri", enrollment->otpauth_uri.expose()}},
                                   {}};
              });
  });

  routes.add(
    http::verb::post, "/admin/api/session/totp/confirm", [&runtime](const exchange_ptr& ex) {
      run_admin(runtime, ex, admin_access::session,
                [&runtime](const principal& who, const json& body) -> caf::expected<admin_reply> {
                  admin_body in{body};
                  auto totp_code = in.text("code").value_or("");
                  if (auto invalid = in.error()) {
                    return std::move(*invalid);
                  }
                  auto codes = operator_credentials{runtime.services}.confirm_totp(who, totp_code);
                  if (!codes) {
                    return codes.error();
                  }
                  json shown = json::array();
                  for (const auto& code : *codes) {
                    shown.push_back(code.expose());
                  }
                  return admin_reply{http::status::ok, {{"recovery_codes", shown}}, {}};
                });
    });

  routes.add(http::verb::delete_, "/admin/api/session/totp", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime](const principal& who, const json& body) -> caf::expected<admin_reply> {
                admin_body in{body};
                auto password = in.text("password").value_or("");
                if (auto invalid = in.error()) {
                  return std::move(*invalid);
                }
                auto done = operator_credentials{runtime.services}.disable_totp(who, password);
                if (!done) {
                  return done.error();
                }
                return admin_reply{http::status::ok, {{"status", "totp_disabled"}}, {}};
              });
  });

  routes.add(http::verb::post, "/admin/api/invites/accept", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::anonymous,
              [&runtime](const principal&, const json& body) -> caf::expected<admin_reply> {
                admin_body in{body};
                auto token = in.text("token").value_or("");
                auto display_name = in.text("display_name").value_or("");
                auto password = in.text("password").value_or("");
                if (auto invalid = in.error()) {
                  return std::move(*invalid);
                }
                auto user =
                  invite_service{runtime.services}.accept_invite(token, display_name, password);
                if (!user) {
                  return user.error();
                }
                return admin_reply{http::status::created, {{"user", to_json(*user)}}, {}};
              });
  });
}

} // namespace cxp::edge
