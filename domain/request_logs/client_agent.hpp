#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cxp::domain {

/// The client of a request as its User-Agent names it, reduced to a bounded family and version
/// (the raw header is never stored).
struct client_agent {
  /// codex_cli_rs (or another `codex_*` originator), openai-python, openai-node (and other
  /// `openai-<language>` SDKs), ai-sdk, curl, or unknown.
  std::string family = "unknown";
  std::string version; ///< e.g. 0.171.0; empty when unknown or not a plain version
};

/// Reads the family and version from a User-Agent value: `codex_cli_rs/0.171.0 (Ubuntu…)`,
/// `OpenAI/Python 1.52.0`, `OpenAI/JS 4.67.3`, `ai-sdk/openai/2.0.1` or `ai/5.0.0`,
/// `curl/8.5.0`; anything else is `unknown`. A version is at most 32 characters of
/// `[0-9A-Za-z.+-]` starting with a digit, else left empty.
client_agent parse_client_agent(std::string_view user_agent);

/// `family/version`, or `family` alone without a version (what the request log stores).
std::string client_label(const client_agent& agent);

/// Splits a stored label back into family and version.
client_agent split_client_label(std::string_view label);

} // namespace cxp::domain
