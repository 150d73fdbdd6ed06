#pragma once

#include <string>
#include <vector>

namespace cxp::edge {

/// `codex-pooler generate-env [--output PATH] [--image-tag TAG] [--force]`: writes the `.env` a
/// compose deployment reads (default `compose/.env`), mode 0600, with fresh secrets
/// (SECRET_KEY_BASE, the upstream and TOTP encryption keys with their versions, the PostgreSQL
/// password) and the image; refuses to replace an existing file without `--force` (losing the
/// keys would make stored credentials unreadable). Prints the next two commands. Returns the
/// exit code.
int run_generate_env(const std::vector<std::string>& args);

} // namespace cxp::edge
