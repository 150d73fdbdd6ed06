#include "tests/support/admin_client.hpp"

#include "common/encoding.hpp"

namespace cxp::test {

http_result admin_client::send(const std::string& method, const std::string& target,
                               const nlohmann::json& body, bool with_csrf) {
  std::map<std::string, std::string> headers;
  std::string cookie_header;
  for (const auto& [name, value] : cookies_) {
    cookie_header += (cookie_header.empty() ? "" : "; ") + name + "=" + value;
  }
  if (!cookie_header.empty()) {
    headers["cookie"] = cookie_header;
  }
  if (with_csrf && !csrf_.empty()) {
    headers["x-csrf-token"] = csrf_;
  }
  auto result =
    http_request(port_, method, target, body.is_null() ? std::string{} : body.dump(), headers);
  if (auto it = result.headers.find("set-cookie"); it != result.headers.end()) {
    size_t start = 0;
    const auto& all = it->second;
    while (start < all.size()) {
      auto end = all.find('\n', start);
      auto line = all.substr(start, end == std::string::npos ? std::string::npos : end - start);
      start = end == std::string::npos ? all.size() : end + 1;
      auto eq = line.find('=');
      auto semi = line.find(';');
      auto name = line.substr(0, eq);
      auto value = line.substr(eq + 1, semi - eq - 1);
      if (value.empty()) {
        cookies_.erase(name);
      } else {
        cookies_[name] = value;
      }
    }
  }
  return result;
}

http_result admin_client::fetch_anonymous_csrf() {
  auto status = get("/bootstrap/status");
  csrf_ = nlohmann::json::parse(status.body).value("csrf_token", "");
  return status;
}

http_result admin_client::bootstrap(const std::string& email, const std::string& password) {
  fetch_anonymous_csrf();
  return send("POST", "/bootstrap",
              {{"email", email}, {"password", password}, {"display_name", "Owner"}});
}

http_result admin_client::login(const std::string& email, const std::string& password) {
  if (csrf_.empty()) {
    fetch_anonymous_csrf();
  }
  auto result = send("POST", "/admin/api/session", {{"email", email}, {"password", password}});
  if (result.status == 200) {
    csrf_ = nlohmann::json::parse(result.body).value("csrf_token", "");
  }
  return result;
}

std::string make_jwt(const nlohmann::json& claims) {
  const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  return to_base64url(header.dump()) + "." + to_base64url(claims.dump()) + "."
         + to_base64url("not-a-signature");
}

nlohmann::json make_auth_json(const std::string& account_id, const std::string& email,
                              const std::string& token_suffix) {
  const nlohmann::json id_claims = {{"email", email},
                                    {"https://api.openai.com/auth",
                                     {{"chatgpt_account_id", account_id},
                                      {"chatgpt_plan_type", "pro"},
                                      {"chatgpt_user_id", "user-" + account_id}}}};
  const nlohmann::json access_claims = {{"exp", 4'102'444'800},
                                        {"secret_marker", "access-" + token_suffix}};
  return {{"OPENAI_API_KEY", nullptr},
          {"tokens",
           {{"id_token", make_jwt(id_claims)},
            {"access_token", make_jwt(access_claims)},
            {"refresh_token", "rt-secret-" + token_suffix},
            {"account_id", account_id}}},
          {"last_refresh", "2026-11-20T10:00:00Z"}};
}

} // namespace cxp::test
