#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <nlohmann/json.hpp>

#include "actors/db/db_worker.hpp"
#include "domain/admin_context.hpp"
#include "domain/operators/login_throttle.hpp"
#include "domain/operators/operator_sessions.hpp"
#include "edge/server/exchange.hpp"

namespace cxp::edge {

/// What every admin route needs; built once by the composition root and shared read-only.
struct admin_runtime {
  caf::actor_system& system;
  actors::db_pool_actor db_pool;
  domain::service_context& services;
  std::shared_ptr<domain::login_throttle> throttle;
};

/// A successful admin answer: status, JSON body and any Set-Cookie lines.
struct admin_reply {
  http::status status = http::status::ok;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::string> cookies;
};

constexpr std::string_view session_cookie_name = "cxp_session";
constexpr std::string_view csrf_cookie_name = "cxp_csrf";
constexpr std::string_view csrf_header_name = "x-csrf-token";

/// How a route is guarded.
enum class admin_access {
  /// No session. State-changing methods still need the double-submit CSRF token
  /// (`x-csrf-token` equal to the `cxp_csrf` cookie).
  anonymous,
  /// A valid session cookie; state-changing methods need the session's CSRF token.
  session,
};

using admin_work = std::function<caf::expected<admin_reply>(const domain::principal& who,
                                                            const nlohmann::json& body)>;

/// Runs `work` on a db worker after the access checks, then renders its reply or its error
/// (validation errors as 422 with `fields`). `body` is the parsed JSON request body (an empty
/// object for bodiless requests); a malformed body (not JSON, nested deeper than
/// `json_max_depth`, or not an object) answers 400 before `work` runs.
void run_admin(const admin_runtime& runtime, const exchange_ptr& ex, admin_access access,
               admin_work work);

/// Renders `error` through the error table, adding field errors for `validation_failed`.
void respond_admin_error(const exchange_ptr& ex, const caf::error& error);

/// Parses `limit` and `cursor` query parameters (limit clamped to 1..200).
domain::page_request page_from_query(const exchange& ex);

/// The query parameter `name`, unset when absent or empty (an empty filter filters nothing).
std::optional<std::string> query_param(const exchange& ex, const char* name);

/// A 200 with `body`, or its error.
caf::expected<admin_reply> json_reply(caf::expected<nlohmann::json> body);

/// The value of cookie `name` in the request, or empty.
std::string cookie_value(const exchange& ex, std::string_view name);

/// A Set-Cookie line: HttpOnly unless `script_readable`; SameSite=Strict; Path=/.
std::string make_cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age,
                        bool script_readable = false);

} // namespace cxp::edge
