#include "edge/app/serve.hpp"

#include <csignal>
#include <cstdio>

#include "common/log.hpp"
#include "domain/pricing/pricing_import.hpp"
#include "edge/app/gateway_node.hpp"
#include "edge/app/service_wiring.hpp"
#include "persistence/db/database.hpp"
#include "persistence/migrate/migrator.hpp"

namespace cxp::edge {

namespace {

caf::expected<std::unique_ptr<persistence::database>> open_database(const boot_config& config) {
  auto db = persistence::database::open(config.database, config.pool_size);
  if (!db) {
    std::fprintf(stderr, "codex-pooler: DATABASE_URL: %s\n", context_of(db.error()).c_str());
  }
  return db;
}

bool apply_migrations(persistence::database& db) {
  system_clock_source clock;
  auto report = persistence::run_migrations(db, persistence::embedded_migrations(), clock);
  if (!report) {
    std::fprintf(stderr, "codex-pooler: %s\n", context_of(report.error()).c_str());
    return false;
  }
  log::info("migrate", "migrations complete",
            {{"applied", report->applied}, {"already_applied", report->already_applied}});
  // The built-in prices come with the schema, so a fresh install prices requests at once.
  if (auto pricing = domain::import_builtin_pricing(db, clock); !pricing.ok()) {
    std::fprintf(stderr, "codex-pooler: built-in pricing: %s\n", pricing.reason.c_str());
    return false;
  }
  return true;
}

int wait_for_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

} // namespace

int migrate(const boot_config& config) {
  auto db = open_database(config);
  if (!db) {
    return 1;
  }
  return apply_migrations(**db) ? 0 : 1;
}

int serve(const boot_config& config) {
  auto db = open_database(config);
  if (!db) {
    return 1;
  }
  if (config.role == node_role::all && !apply_migrations(**db)) {
    return 1;
  }
  auto wiring = make_service_wiring(config, **db);
  if (!wiring) {
    std::fprintf(stderr, "codex-pooler: %s\n", context_of(wiring.error()).c_str());
    return 2;
  }
  gateway_node node{config, **db, **wiring};
  if (auto failure = node.start()) {
    std::fprintf(stderr, "codex-pooler: %s\n", failure->c_str());
    return 1;
  }
  node.drain(wait_for_signal());
  node.stop();
  log::info("app", "stopped");
  return 0;
}

} // namespace cxp::edge
