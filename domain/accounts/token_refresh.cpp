#include "domain/accounts/token_refresh.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "domain/accounts/auth_json.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 7> revoking_codes = {
  "invalid_grant",         "refresh_token_reused",
  "refresh_token_expired", "refresh_token_invalidated",
  "invalid_refresh_token", "revoked",
  "token_expired"};

/// The error code of an OAuth error body: `error.code`, a string `error`, or a top-level `code`.
std::string error_code_of(const json& body) {
  if (!body.is_object()) {
    return {};
  }
  if (auto error = body.find("error"); error != body.end()) {
    if (error->is_string()) {
      return error->get<std::string>();
    }
    if (error->is_object()) {
      if (auto code = error->find("code"); code != error->end() && code->is_string()) {
        return code->get<std::string>();
      }
    }
  }
  if (auto code = body.find("code"); code != body.end() && code->is_string()) {
    return code->get<std::string>();
  }
  return {};
}

bool is_revoking(std::string_view code) {
  return std::find(revoking_codes.begin(), revoking_codes.end(), code) != revoking_codes.end();
}

/// Codes go into the account row and logs, so only a bounded vocabulary passes through.
std::string bounded_code(std::string_view code, unsigned status, bool auth_status) {
  if (auth_status && is_revoking(code)) {
    return std::string{code};
  }
  return "http_" + std::to_string(status);
}

} // namespace

std::string make_refresh_body(const secret<std::string>& refresh_token) {
  return json{{"client_id", codex_oauth_client_id},
              {"grant_type", "refresh_token"},
              {"refresh_token", refresh_token.expose()}}
    .dump();
}

std::optional<time_point> jwt_expiry(std::string_view token) {
  auto claims = decode_jwt_claims(token);
  if (!claims) {
    return std::nullopt;
  }
  auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) {
    return std::nullopt;
  }
  return time_point{std::chrono::seconds{exp->get<int64_t>()}};
}

refresh_outcome classify_refresh_response(unsigned status, std::string_view body, time_point now) {
  refresh_outcome outcome;
  auto parsed = json::parse(body, nullptr, false);
  if (status == 200) {
    auto access = parsed.is_object() ? parsed.find("access_token") : parsed.end();
    if (!parsed.is_object() || access == parsed.end() || !access->is_string()
        || access->get<std::string>().empty()) {
      outcome.error_code = "invalid_response";
      return outcome;
    }
    outcome.outcome = refresh_outcome::kind::refreshed;
    outcome.access_token = secret<std::string>{access->get<std::string>()};
    if (auto refresh = parsed.find("refresh_token");
        refresh != parsed.end() && refresh->is_string() && !refresh->get<std::string>().empty()) {
      outcome.refresh_token = secret<std::string>{refresh->get<std::string>()};
    }
    if (auto expires_in = parsed.find("expires_in");
        expires_in != parsed.end() && expires_in->is_number()) {
      outcome.access_token_expires_at = now + std::chrono::seconds{expires_in->get<int64_t>()};
    } else {
      outcome.access_token_expires_at = jwt_expiry(outcome.access_token.expose());
    }
    return outcome;
  }
  const auto code = error_code_of(parsed);
  const bool auth_status = status == 400 || status == 401 || status == 403;
  if (status == 401 || (auth_status && is_revoking(code))) {
    outcome.outcome = refresh_outcome::kind::revoked;
  }
  outcome.error_code = bounded_code(code, status, auth_status);
  return outcome;
}

} // namespace cxp::domain
