#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/boot_config.hpp"
#include "domain/admin_context.hpp"

namespace cxp::edge {

/// The admin CLI's sign-in commands (usage in `onboarding_cli_usage`): `account signin`
/// (browser PKCE: prints the URL, reads the pasted callback URL on stdin), `account device-login`
/// (prints the code, waits for approval while polling itself), their `--account` relink form,
/// and `upstream-invite create|list|revoke|reissue`. Returns nullopt when `command` is not one of
/// them, else the exit code. Talks to the issuer at `config.oauth_issuer_url` with its own client.
std::optional<int> run_onboarding_cli(const boot_config& config, domain::service_context& context,
                                      const std::string& command,
                                      const std::multimap<std::string, std::string>& flags);

/// The usage lines of those commands.
extern const char* const onboarding_cli_usage;

} // namespace cxp::edge
