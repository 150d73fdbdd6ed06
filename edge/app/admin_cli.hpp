#pragma once

#include <string>
#include <vector>

#include "common/boot_config.hpp"

namespace cxp::edge {

/// `codex-pooler admin <noun> <verb> [--flag value]…`: provisions an instance from scripts through
/// the same admin services as the HTTP API (acting as principal `cli`, with owner rights, audited
/// as such). Prints JSON on stdout, progress on stderr, one-line errors; returns the exit code.
int run_admin_cli(const boot_config& config, const std::vector<std::string>& args);

} // namespace cxp::edge
