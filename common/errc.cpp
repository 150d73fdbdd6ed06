#include "common/errc.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace cxp {

std::string_view to_string(errc code) {
  switch (code) {
  case errc::internal_error:
    return "internal_error";
  case errc::invalid_request:
    return "invalid_request";
  case errc::validation_failed:
    return "validation_failed";
  case errc::unauthenticated:
    return "unauthenticated";
  case errc::forbidden:
    return "forbidden";
  case errc::not_found:
    return "not_found";
  case errc::method_not_allowed:
    return "method_not_allowed";
  case errc::conflict:
    return "conflict";
  case errc::rate_limited:
    return "rate_limited";
  case errc::payload_too_large:
    return "payload_too_large";
  case errc::unsupported_media_type:
    return "unsupported_media_type";
  case errc::csrf_token_invalid:
    return "csrf_token_invalid";
  case errc::database_unavailable:
    return "database_unavailable";
  case errc::service_unavailable:
    return "service_unavailable";
  case errc::timeout:
    return "timeout";
  case errc::config_invalid:
    return "config_invalid";
  case errc::migration_failed:
    return "migration_failed";
  case errc::decryption_failed:
    return "decryption_failed";
  case errc::api_key_missing:
    return "api_key_missing";
  case errc::api_key_invalid:
    return "api_key_invalid";
  case errc::api_key_inactive:
    return "api_key_inactive";
  case errc::model_not_allowed:
    return "model_not_allowed";
  case errc::totp_required:
    return "totp_required";
  case errc::password_change_required:
    return "password_change_required";
  case errc::usage_limit_reached:
    return "usage_limit_reached";
  case errc::no_eligible_account:
    return "no_eligible_account";
  case errc::pinned_continuation_unavailable:
    return "pinned_continuation_unavailable";
  case errc::reauth_required:
    return "reauth_required";
  case errc::pool_unavailable:
    return "pool_unavailable";
  case errc::upstream_request_failed:
    return "upstream_request_failed";
  case errc::stream_idle_timeout:
    return "stream_idle_timeout";
  case errc::invalid_model:
    return "invalid_model";
  case errc::reasoning_effort_not_allowed:
    return "reasoning_effort_not_allowed";
  case errc::v1_compatibility_disabled:
    return "v1_compatibility_disabled";
  case errc::unsupported_endpoint:
    return "unsupported_endpoint";
  case errc::unsupported_parameter:
    return "unsupported_parameter";
  case errc::image_generation_disabled:
    return "image_generation_disabled";
  case errc::cluster_protocol_mismatch:
    return "cluster_protocol_mismatch";
  case errc::owner_unavailable:
    return "owner_unavailable";
  case errc::api_key_policy_limit_exceeded:
    return "api_key_policy_limit_exceeded";
  case errc::server_is_overloaded:
    return "server_is_overloaded";
  case errc::request_headers_too_large:
    return "request_headers_too_large";
  case errc::client_address_not_allowed:
    return "client_address_not_allowed";
  case errc::unsupported_content_encoding:
    return "unsupported_content_encoding";
  case errc::mcp_token_required:
    return "mcp_token_required";
  case errc::mcp_token_invalid:
    return "mcp_token_invalid";
  case errc::mcp_service_disabled:
    return "mcp_service_disabled";
  case errc::mcp_account_disabled:
    return "mcp_account_disabled";
  case errc::mcp_operator_disabled:
    return "mcp_operator_disabled";
  case errc::mcp_operator_password_change_required:
    return "mcp_operator_password_change_required";
  case errc::origin_not_allowed:
    return "origin_not_allowed";
  case errc::not_acceptable:
    return "not_acceptable";
  case errc::invalid_callback_url:
    return "invalid_callback_url";
  case errc::invalid_callback_origin:
    return "invalid_callback_origin";
  case errc::duplicate_callback_param:
    return "duplicate_callback_param";
  case errc::missing_state:
    return "missing_state";
  case errc::provider_denied:
    return "provider_denied";
  case errc::missing_callback_result:
    return "missing_callback_result";
  case errc::invalid_state:
    return "invalid_state";
  case errc::expired_flow:
    return "expired_flow";
  case errc::flow_not_pending:
    return "flow_not_pending";
  case errc::stale_flow:
    return "stale_flow";
  case errc::token_exchange_failed:
    return "token_exchange_failed";
  case errc::identity_mismatch:
    return "identity_mismatch";
  case errc::unauthorized_pool:
    return "unauthorized_pool";
  case errc::codex_auth_unavailable:
    return "codex_auth_unavailable";
  case errc::codex_auth_transient:
    return "codex_auth_transient";
  case errc::codex_device_code_expired:
    return "codex_device_code_expired";
  case errc::codex_device_code_denied:
    return "codex_device_code_denied";
  case errc::codex_device_code_timeout:
    return "codex_device_code_timeout";
  case errc::codex_account_identity_missing:
    return "codex_account_identity_missing";
  case errc::invite_email_mismatch:
    return "invite_email_mismatch";
  case errc::invite_invalid:
    return "invite_invalid";
  case errc::invite_expired:
    return "invite_expired";
  case errc::invite_revoked:
    return "invite_revoked";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string context) {
  if (context.empty()) {
    return caf::error{static_cast<uint8_t>(code), errc_category};
  }
  return caf::error{static_cast<uint8_t>(code), errc_category,
                    caf::make_message(std::move(context))};
}

errc to_errc(const caf::error& err) {
  if (err.category() != errc_category) {
    return errc::internal_error;
  }
  return static_cast<errc>(err.code());
}

caf::error make_validation_error(std::map<std::string, std::string> fields) {
  return caf::error{static_cast<uint8_t>(errc::validation_failed), errc_category,
                    caf::make_message(std::move(fields))};
}

std::map<std::string, std::string> field_errors_of(const caf::error& err) {
  const auto& context = err.context();
  if (err.category() == errc_category && context.size() == 1
      && context.match_element<std::map<std::string, std::string>>(0)) {
    return context.get_as<std::map<std::string, std::string>>(0);
  }
  return {};
}

std::string context_of(const caf::error& err) {
  const auto& context = err.context();
  if (err.category() == errc_category && context.size() == 1
      && context.match_element<std::string>(0)) {
    return context.get_as<std::string>(0);
  }
  return caf::to_string(err);
}

} // namespace cxp
