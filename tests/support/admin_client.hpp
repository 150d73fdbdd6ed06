#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace cxp::test {

/// A browser-like client of the admin API: keeps cookies and sends the CSRF header the way the
/// dashboard does, so tests can also leave either out on purpose.
class admin_client {
public:
  explicit admin_client(uint16_t port) : port_(port) {}

  /// Sends a request; `with_csrf = false` omits the x-csrf-token header.
  http_result send(const std::string& method, const std::string& target,
                   const nlohmann::json& body = nullptr, bool with_csrf = true);

  http_result get(const std::string& target) { return send("GET", target); }

  /// GET /bootstrap/status, keeping its anonymous CSRF token for the next state-changing call.
  http_result fetch_anonymous_csrf();

  /// GET /bootstrap/status (fetching the anonymous CSRF cookie), then POST /bootstrap.
  http_result bootstrap(const std::string& email, const std::string& password);

  /// POST /admin/api/session and remember the session's CSRF token.
  http_result login(const std::string& email, const std::string& password);

  void forget_cookies() {
    cookies_.clear();
    csrf_.clear();
  }
  const std::string& csrf() const { return csrf_; }

private:
  uint16_t port_;
  std::map<std::string, std::string> cookies_;
  std::string csrf_;
};

/// A syntactically valid JWT (unsigned: our gateway only reads claims) with `claims` as payload.
std::string make_jwt(const nlohmann::json& claims);

/// A Codex ChatGPT-login auth.json for account `account_id` with distinct token strings.
nlohmann::json make_auth_json(const std::string& account_id, const std::string& email,
                              const std::string& token_suffix);

} // namespace cxp::test
