#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "actors/account/account_actor.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "common/clock.hpp"
#include "domain/admin_context.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "tests/support/test_database.hpp"

namespace cxp::test {

/// What the runtime's actors need of a node, over one test database: an actor system, a db
/// pool, metrics, test keyrings and the service context, and `runtime_deps` aimed at an
/// upstream nobody listens on. Members are public so a test can take what it needs.
struct runtime_rig {
  runtime_rig(backend kind, const cxp::clock& rig_clock) : database(kind), clock(rig_clock) {}

  ~runtime_rig() { caf::anon_send_exit(db_pool, caf::exit_reason::user_shutdown); }

  static persistence::keyring test_keyring() {
    auto ring = persistence::keyring::make({"v1", secret<std::string>{std::string(32, 'k')}});
    if (!ring) {
      throw std::logic_error{"test keyring"};
    }
    return std::move(*ring);
  }

  test_database database;
  const cxp::clock& clock;
  caf::actor_system_config config;
  caf::actor_system system{config};
  actors::db_pool_actor db_pool = actors::spawn_db_pool(system, database.db(), 2);
  metrics::registry registry;
  actors::gateway_metrics metrics{registry};
  persistence::keyring upstream_keys = test_keyring();
  persistence::keyring totp_keys = test_keyring();
  domain::service_context services{database.db(),
                                   clock,
                                   upstream_keys,
                                   totp_keys,
                                   secret<std::string>{std::string(32, 'a')},
                                   secret<std::string>{std::string(32, 't')}};
  actors::runtime_deps deps{db_pool,
                            std::make_shared<actors::upstream_client>(),
                            services,
                            "http://127.0.0.1:9",
                            "http://127.0.0.1:9/oauth/token",
                            metrics,
                            "node-1"};
};

} // namespace cxp::test
