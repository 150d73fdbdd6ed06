#pragma once

#include "common/boot_config.hpp"

namespace cxp::edge {

/// `codex-pooler serve`: opens the database (migrating first in role `all`), starts the actor
/// system, the HTTP edge and the node heartbeat, then blocks until SIGTERM/SIGINT and drains.
/// Returns the process exit code. The caller has blocked SIGTERM and SIGINT in every thread.
int serve(const boot_config& config);

/// `codex-pooler migrate`: applies pending migrations and prints what it did. Returns the exit
/// code.
int migrate(const boot_config& config);

} // namespace cxp::edge
