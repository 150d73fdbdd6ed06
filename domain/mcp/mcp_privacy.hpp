#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cxp::domain {

/// "j***@example.com": the first character of the local part and the domain.
std::string mask_email(std::string_view email);

/// "10.1.*.*" for IPv4, the first two groups and "*" for IPv6; anything else "***".
std::string mask_ip(std::string_view ip);

/// What every MCP tool result passes through before it leaves the node, whatever produced it:
/// members that could hold a secret (`*_hash`, `*_secret`, `*_password`, `*_ciphertext`,
/// access/refresh/id tokens, raw keys and tokens, passwords) are dropped; `email` members and every
/// e-mail address inside any string are masked; client addresses masked; ChatGPT workspace and user
/// ids replaced by an 8-hex digest; anything shaped like a full Pool API key, MCP token or JWT
/// replaced by "[redacted]".
nlohmann::json sanitize_for_mcp(const nlohmann::json& value);

} // namespace cxp::domain
