#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "domain/keys/api_key.hpp"

namespace cxp::edge {

/// The ChatGPT account id a Codex CLI in ChatGPT-login mode names for `key`
/// (`ChatGPT-Account-Id`): `cxp-<key prefix>`, public like the prefix itself.
std::string codex_account_id(const domain::api_key_view& key);

/// The answer to `GET {chatgpt_base_url}/wham/accounts/check` (codex-protocol §12, the CLI's
/// mandatory "workspace routing discovery"): one workspace, the key's, of plan `plan_type`, whose
/// backend origin is `origin` (the CLI sends model requests on its `chatgpt_base_url` origin
/// there, so it must be the gateway's own `https` origin as the client reaches it).
nlohmann::json accounts_check_document(const domain::api_key_view& key,
                                       const std::string& plan_type, const std::string& origin);

/// The `https://` origin of the gateway as the client reached it: `x-forwarded-host` (first
/// value) when a proxy set it, else `host`; empty without either.
std::string client_facing_origin(std::string_view forwarded_host, std::string_view host);

/// A Codex `auth.json` in ChatGPT-login mode for the raw Pool API key `raw_key` (README
/// "Codex CLI with ChatGPT login"): the key is the access token (sent as `Bearer` like any Pool
/// API key), the id token an unsigned JWT naming `codex_account_id(key)`, plan `plan_type` and a
/// `.invalid` e-mail, and no usable refresh token (nothing to refresh: the key does not expire
/// by age). The document carries the raw key: it is printed once and never stored.
nlohmann::json codex_auth_json(std::string_view raw_key, const domain::api_key_view& key,
                               const std::string& plan_type, time_point now);

} // namespace cxp::edge
