#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/secret.hpp"

namespace cxp::domain {

/// Largest accepted auth.json, in bytes (a real one is about 4 KiB).
constexpr size_t max_auth_json_bytes = 64u * 1024u;

/// The claim namespace of ChatGPT's JWTs that holds the account, user and plan.
constexpr std::string_view openai_auth_claim = "https://api.openai.com/auth";
/// The claim namespace that may hold the email instead of the top-level `email`.
constexpr std::string_view openai_profile_claim = "https://api.openai.com/profile";

/// What an import keeps from a Codex `auth.json` (ChatGPT login). The id_token is read for its
/// claims and then dropped; only the two tokens below are ever stored (encrypted).
struct parsed_auth_json {
  secret<std::string> access_token;
  secret<std::string> refresh_token;
  /// `tokens.account_id`, else the id_token's `https://api.openai.com/auth`.chatgpt_account_id.
  std::string chatgpt_account_id;
  std::optional<std::string> chatgpt_user_id; ///< `chatgpt_user_id` or `user_id` claim
  std::optional<std::string> email;           ///< `email` or `https://api.openai.com/profile`.email
  std::optional<std::string> plan_type;       ///< `chatgpt_plan_type`, e.g. "plus"
  std::optional<time_point>
    access_token_expires_at;              ///< the access token's JWT `exp`, when it has one
  std::optional<time_point> last_refresh; ///< top-level `last_refresh`, when parseable
};

/// The payload claims of a JWT (`header.payload.signature`, base64url) WITHOUT verifying the
/// signature: we only read what the issuer put there, never trust it for authorisation. Nullopt
/// when `token` is not three dot-separated parts with a non-empty header, or the payload is not a
/// base64url JSON object.
std::optional<nlohmann::json> decode_jwt_claims(std::string_view token);

/// Parses and validates the text of a Codex `auth.json` (see docs codex-protocol §7.1-7.2).
/// Claims come from the id_token, falling back to the access token's. Rejects, as
/// `errc::validation_failed` with field paths (messages never contain token text):
/// - text over `max_auth_json_bytes` or not a JSON object (`auth_json`);
/// - API-key logins (`OPENAI_API_KEY` set, or `auth_mode` "apikey") and every other non-ChatGPT
///   mode or personal access token (`OPENAI_API_KEY`, `auth_mode`, `personal_access_token`);
/// - a missing or empty `tokens.access_token`, `tokens.refresh_token` or `tokens.id_token`, an
///   id_token that is not a JWT, an `at-` access token (a PAT), and no account id in either
///   `tokens.account_id` or the claims (`tokens.account_id`).
/// An expired access token is accepted: the refresh token renews it. Pure; any thread.
caf::expected<parsed_auth_json> parse_auth_json(std::string_view text);

/// Splits a bulk upload into (source name, auth.json text) items: a JSON array gives one item per
/// element named "[<index>]", a single object gives one item named `single_name`. Elements are
/// re-serialised, so each item then goes through `parse_auth_json`. Fails with
/// `errc::validation_failed` (field `auth_json`) when the text is not JSON, is neither an array
/// nor an object, or is an empty array.
caf::expected<std::vector<std::pair<std::string, std::string>>>
split_auth_json_bundle(std::string_view text, const std::string& single_name = "auth.json");

} // namespace cxp::domain
