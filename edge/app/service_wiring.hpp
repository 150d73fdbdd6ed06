#pragma once

#include <memory>

#include <caf/expected.hpp>

#include "common/boot_config.hpp"
#include "common/clock.hpp"
#include "domain/admin_context.hpp"
#include "persistence/crypto/secret_box.hpp"

namespace cxp::edge {

/// The admin services' dependencies, derived once from the boot config: the keyrings and the
/// HMAC keys. Shared by `serve` and the `admin` CLI so both run the same services.
struct service_wiring {
  system_clock_source clock;
  persistence::keyring upstream_keys;
  persistence::keyring totp_keys;
  std::unique_ptr<domain::service_context> context;
};

/// Builds the wiring over `db`. Fails when a configured key is unusable (never echoing it).
caf::expected<std::unique_ptr<service_wiring>> make_service_wiring(const boot_config& config,
                                                                   persistence::database& db);

} // namespace cxp::edge
