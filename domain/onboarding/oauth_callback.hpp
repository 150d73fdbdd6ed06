#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "common/secret.hpp"

namespace cxp::domain::oauth {

/// What the operator pasted back, once it passed the checks.
struct callback_result {
  secret<std::string> state;
  /// The authorization code; empty when the issuer answered with `error` instead.
  secret<std::string> code;
  /// The issuer's `error` (e.g. access_denied), empty on success.
  std::string error;
  /// `error_description`, cut to 200 bytes with control characters dropped (the issuer's text,
  /// never a secret, still HTML-escaped wherever it is shown).
  std::string error_description;
};

/// Parses a pasted callback (codex-oauth-onboarding.md §1.4): lenient about the form (a full URL,
/// one without scheme, a bare query with or without `?`, values in the fragment when there is no
/// query; whitespace and quotes trimmed), strict about the content: scheme http, host localhost
/// or 127.0.0.1, port 1455 or 1457, no userinfo, path /auth/callback, each of code/state/error
/// at most once, a state of at most 128 characters of `[A-Za-z0-9._-]`, exactly one of code and
/// error. Errors: `invalid_callback_url`, `invalid_callback_origin`, `duplicate_callback_param`,
/// `missing_state`, `invalid_state` (syntax), `missing_callback_result`. A callback carrying an
/// `error` parses (the caller fails its flow with `provider_denied`). Pure; any thread; the
/// error contexts never contain the pasted text.
caf::expected<callback_result> parse_callback(std::string_view pasted);

} // namespace cxp::domain::oauth
