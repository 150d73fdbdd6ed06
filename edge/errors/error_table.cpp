#include "edge/errors/error_table.hpp"

namespace cxp::edge {

namespace {

using boost::beast::http::status;

constexpr std::string_view invalid_request_type = "invalid_request_error";
constexpr std::string_view authentication_type = "authentication_error";
constexpr std::string_view permission_type = "permission_error";
constexpr std::string_view rate_limit_type = "rate_limit_error";
constexpr std::string_view server_type = "server_error";

} // namespace

public_error lookup_error(errc code) {
  switch (code) {
  case errc::internal_error:
    return {status::internal_server_error, server_type, "Internal server error."};
  case errc::invalid_request:
    return {status::bad_request, invalid_request_type, "The request is malformed."};
  case errc::validation_failed:
    return {status::unprocessable_entity, invalid_request_type, "The request failed validation."};
  case errc::unauthenticated:
    return {status::unauthorized, authentication_type, "Authentication is required."};
  case errc::forbidden:
    return {status::forbidden, permission_type, "You are not allowed to do this."};
  case errc::not_found:
    return {status::not_found, invalid_request_type, "The requested resource does not exist."};
  case errc::method_not_allowed:
    return {status::method_not_allowed, invalid_request_type,
            "This method is not allowed on this route."};
  case errc::conflict:
    return {status::conflict, invalid_request_type, "The request conflicts with existing state."};
  case errc::rate_limited:
    return {status::too_many_requests, rate_limit_type, "Too many requests; retry later."};
  case errc::payload_too_large:
    return {status::payload_too_large, invalid_request_type, "The request body is too large."};
  case errc::unsupported_media_type:
    return {status::unsupported_media_type, invalid_request_type, "The request body must be JSON."};
  case errc::csrf_token_invalid:
    return {status::forbidden, permission_type, "A valid CSRF token is required for this request."};
  case errc::database_unavailable:
    return {status::service_unavailable, server_type, "The database is unavailable; retry later."};
  case errc::service_unavailable:
    return {status::service_unavailable, server_type, "The service is unavailable; retry later."};
  case errc::timeout:
    return {status::gateway_timeout, server_type, "The request timed out."};
  case errc::config_invalid:
    return {status::internal_server_error, server_type, "Invalid configuration."};
  case errc::migration_failed:
    return {status::internal_server_error, server_type, "Database migration failed."};
  case errc::decryption_failed:
    return {status::internal_server_error, server_type, "A stored secret could not be decrypted."};
  case errc::api_key_missing:
    return {status::unauthorized, authentication_type,
            "Missing API key: send Authorization: Bearer sk-cxp-…"};
  case errc::api_key_invalid:
    return {status::unauthorized, authentication_type, "Invalid API key."};
  case errc::api_key_inactive:
    return {status::unauthorized, authentication_type,
            "This API key is paused, revoked or expired."};
  case errc::model_not_allowed:
    return {status::forbidden, permission_type, "This API key may not use the requested model."};
  case errc::totp_required:
    return {status::unauthorized, authentication_type,
            "A TOTP code (or a recovery code) is required."};
  case errc::password_change_required:
    return {status::forbidden, permission_type, "Change your password before doing anything else."};
  case errc::usage_limit_reached:
    return {status::too_many_requests, "usage_limit_reached", "The usage limit has been reached"};
  case errc::no_eligible_account:
    return {status::service_unavailable, server_type,
            "No upstream account of this pool can serve the request right now."};
  case errc::pinned_continuation_unavailable:
    return {status::service_unavailable, server_type,
            "The account this session is pinned to is unavailable; restart the session with its "
            "full context."};
  case errc::reauth_required:
    return {status::service_unavailable, server_type,
            "The upstream account needs to be signed in again."};
  case errc::pool_unavailable:
    return {status::service_unavailable, server_type, "This pool is disabled or has no accounts."};
  case errc::upstream_request_failed:
    return {status::bad_gateway, server_type, "The upstream request failed."};
  case errc::stream_idle_timeout:
    return {status::bad_gateway, server_type, "The upstream stream went idle."};
  case errc::invalid_model:
    return {status::bad_request, invalid_request_type, "The model is not available for this pool."};
  case errc::reasoning_effort_not_allowed:
    return {status::bad_request, invalid_request_type,
            "This API key does not allow the requested reasoning effort."};
  case errc::v1_compatibility_disabled:
    return {status::forbidden, permission_type,
            "The OpenAI-compatible /v1 API is disabled for this pool."};
  case errc::unsupported_endpoint:
    return {status::not_found, invalid_request_type,
            "This endpoint is not supported by this gateway."};
  case errc::unsupported_parameter:
    return {status::bad_request, invalid_request_type, "Unsupported parameter."};
  case errc::image_generation_disabled:
    return {status::forbidden, permission_type, "Image generation is disabled for this pool."};
  case errc::cluster_protocol_mismatch:
    return {status::service_unavailable, server_type,
            "The node that owns this session runs an incompatible version; retry shortly."};
  case errc::owner_unavailable:
    return {status::service_unavailable, server_type,
            "The node that owns this session is unavailable; retry shortly."};
  case errc::server_is_overloaded:
    return {status::service_unavailable, server_type,
            "The gateway route class is temporarily overloaded; retry shortly."};
  case errc::request_headers_too_large:
    return {status::request_header_fields_too_large, invalid_request_type,
            "The request headers are too large."};
  case errc::client_address_not_allowed:
    return {status::forbidden, permission_type,
            "Your network address is not allowed to use this gateway."};
  case errc::unsupported_content_encoding:
    return {status::unsupported_media_type, invalid_request_type,
            "The request body's Content-Encoding is not supported; send gzip, deflate or none."};
  case errc::mcp_token_required:
    return {status::unauthorized, authentication_type, "MCP bearer token is required."};
  case errc::mcp_token_invalid:
    return {status::unauthorized, authentication_type,
            "The MCP token is invalid, expired or revoked."};
  case errc::mcp_service_disabled:
    return {status::forbidden, permission_type,
            "The MCP endpoint is disabled on this instance (setting mcp.enabled)."};
  case errc::mcp_account_disabled:
    return {status::forbidden, permission_type, "MCP access is switched off for this operator."};
  case errc::mcp_operator_disabled:
    return {status::forbidden, permission_type, "The operator of this MCP token is disabled."};
  case errc::mcp_operator_password_change_required:
    return {status::forbidden, permission_type,
            "The operator of this MCP token must change its password first."};
  case errc::origin_not_allowed:
    return {status::forbidden, permission_type, "Requests from this Origin are not allowed."};
  case errc::not_acceptable:
    return {status::not_acceptable, invalid_request_type,
            "The Accept header must allow application/json or text/event-stream."};
  case errc::invalid_callback_url:
    return {status::bad_request, invalid_request_type,
            "The pasted value is not a sign-in callback URL; paste the whole address the browser "
            "landed on."};
  case errc::invalid_callback_origin:
    return {status::bad_request, invalid_request_type,
            "The pasted URL is not http://localhost:1455/auth/callback; paste the address the "
            "browser landed on after signing in."};
  case errc::duplicate_callback_param:
    return {status::bad_request, invalid_request_type,
            "The pasted URL repeats code, state or error; paste it again unchanged."};
  case errc::missing_state:
    return {status::bad_request, invalid_request_type,
            "The pasted URL has no state; paste the whole address the browser landed on."};
  case errc::provider_denied:
    return {status::bad_request, invalid_request_type, "The sign-in was refused by OpenAI."};
  case errc::missing_callback_result:
    return {status::bad_request, invalid_request_type,
            "The pasted URL holds neither a code nor an error; wait until the sign-in finishes, "
            "then paste the address."};
  case errc::invalid_state:
    return {status::bad_request, invalid_request_type,
            "This sign-in is unknown or was already used; start again."};
  case errc::expired_flow:
    return {status::bad_request, invalid_request_type, "This sign-in expired; start again."};
  case errc::flow_not_pending:
    return {status::conflict, invalid_request_type,
            "This sign-in was already completed or is being completed."};
  case errc::stale_flow:
    return {status::conflict, invalid_request_type,
            "A newer sign-in was started; use the newest link."};
  case errc::token_exchange_failed:
    return {status::bad_gateway, server_type, "OpenAI did not accept the sign-in; start again."};
  case errc::identity_mismatch:
    return {status::conflict, invalid_request_type,
            "The signed-in ChatGPT account is not the account being relinked."};
  case errc::unauthorized_pool:
    return {status::forbidden, permission_type,
            "The operator may no longer add accounts to this pool."};
  case errc::codex_auth_unavailable:
    return {
      status::service_unavailable, server_type,
      "OpenAI sign-in is not available (device code login may be disabled); try again later."};
  case errc::codex_auth_transient:
    return {status::bad_gateway, server_type, "OpenAI sign-in failed temporarily; try again."};
  case errc::codex_device_code_expired:
    return {status::gone, invalid_request_type, "The device code expired; start again."};
  case errc::codex_device_code_denied:
    return {status::forbidden, permission_type, "The device code sign-in was denied."};
  case errc::codex_device_code_timeout:
    return {status::request_timeout, invalid_request_type,
            "The device code was not approved in time; check that \"Enable device code "
            "authorization for Codex\" is on in ChatGPT Settings > Security, then start again."};
  case errc::codex_account_identity_missing:
    return {status::bad_request, invalid_request_type,
            "The signed-in account has no ChatGPT account id."};
  case errc::invite_email_mismatch:
    return {status::conflict, invalid_request_type,
            "The signed-in email does not match the invited email."};
  case errc::invite_invalid:
    return {status::not_found, invalid_request_type, "This invite link is not valid."};
  case errc::invite_expired:
    return {status::gone, invalid_request_type, "This invite link expired; ask for a new one."};
  case errc::invite_revoked:
    return {status::gone, invalid_request_type, "This invite link was revoked; ask for a new one."};
  case errc::api_key_policy_limit_exceeded:
    return {status::too_many_requests, rate_limit_type, "The API key's usage limit is reached."};
  }
  return {status::internal_server_error, server_type, "Internal server error."};
}

nlohmann::json error_envelope(std::string message, std::string_view type, nlohmann::json code,
                              nlohmann::json param) {
  return {{"error",
           {{"message", std::move(message)},
            {"type", type},
            {"code", std::move(code)},
            {"param", std::move(param)}}}};
}

nlohmann::json upstream_error_envelope(const nlohmann::json& error) {
  return error_envelope(error.value("message", std::string{"upstream request failed"}),
                        "server_error", error.value("code", std::string{"upstream_error"}));
}

nlohmann::json render_error(errc code, std::optional<std::string> message,
                            std::optional<std::string> param) {
  const auto entry = lookup_error(code);
  return error_envelope(message ? *message : std::string{entry.message}, entry.type,
                        std::string{to_string(code)},
                        param ? nlohmann::json(*param) : nlohmann::json(nullptr));
}

nlohmann::json render_websocket_error(errc code, std::optional<std::string> message,
                                      std::optional<std::string> param) {
  auto body = render_error(code, std::move(message), std::move(param));
  return {{"type", "error"},
          {"status", static_cast<unsigned>(lookup_error(code).status)},
          {"error", std::move(body["error"])}};
}

} // namespace cxp::edge
