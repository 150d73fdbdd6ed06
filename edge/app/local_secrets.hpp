#pragma once

#include <caf/expected.hpp>

#include "common/boot_config.hpp"

namespace cxp::edge {

/// Fills every secret missing from `config` from `<data_dir>/secrets.json`, generating that file
/// (mode 0600) on first run. Only for the single-node SQLite default: nodes sharing PostgreSQL
/// must be given the same secrets, so `load_boot_config` already requires them there.
caf::expected<void> ensure_local_secrets(boot_config& config);

} // namespace cxp::edge
