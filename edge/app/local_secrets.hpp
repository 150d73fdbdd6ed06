#pragma once

#include <string>

#include <caf/expected.hpp>

#include "common/boot_config.hpp"

namespace cxp::edge {

/// A fresh set of the instance's secrets, base64: SECRET_KEY_BASE (48 random bytes) and the
/// upstream and TOTP encryption keys (32 random bytes each, what `decode_key_32` accepts).
struct fresh_secrets {
  std::string secret_key_base;
  std::string upstream_secret_key;
  std::string totp_encryption_key;
};

fresh_secrets generate_secrets();

/// Fills every secret missing from `config` from `<data_dir>/secrets.json`, generating that file
/// (mode 0600) on first run. Only for the single-node SQLite default: nodes sharing PostgreSQL
/// must be given the same secrets, so `load_boot_config` already requires them there.
caf::expected<void> ensure_local_secrets(boot_config& config);

} // namespace cxp::edge
