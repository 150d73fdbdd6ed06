// /healthz judges the actors on the request path: it answers 503 when they no longer answer
// (wedged or dead), within its deadline, so an orchestrator restarts the node.
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/db/db_worker.hpp"
#include "edge/routes/health_routes.hpp"
#include "edge/server/actor_bridge.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;

namespace {

/// A settings cache that takes questions and never answers them: a wedged request path.
struct wedged_state {
  std::vector<caf::typed_response_promise<actors::settings_snapshot>> unanswered;
};

actors::settings_cache_actor::behavior_type
wedged_settings(actors::settings_cache_actor::stateful_pointer<wedged_state> self) {
  return {
    [self](actors::get_atom) -> caf::typed_response_promise<actors::settings_snapshot> {
      auto promise = self->make_response_promise<actors::settings_snapshot>();
      self->state.unanswered.push_back(promise);
      return promise;
    },
    [](actors::reload_atom) {},
    [](actors::tick_atom) {},
  };
}

struct liveness_rig {
  caf::actor_system_config config;
  caf::actor_system system{config};
  edge::bridge_scope bridge{system};
  test::test_database database{test::backend::sqlite};
  actors::db_pool_actor db_pool = actors::spawn_db_pool(system, database.db(), 1);
  metrics::registry registry;
  secret<std::string> token_key{std::string(32, 'k')};
  std::shared_ptr<io_pool> io = std::make_shared<io_pool>(1);
  edge::route_table routes;
  std::unique_ptr<edge::http_server> server;

  void serve(actors::settings_cache_actor settings) {
    edge::http_server_options options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.io = io;
    server = std::make_unique<edge::http_server>(
      options, routes, [](const edge::exchange&, edge::http::status, auto) {});
    edge::add_health_routes(routes, {system, db_pool, server->state(), registry, settings,
                                     token_key, actors::account_custodian_actor{}, io});
    REQUIRE(server->start());
  }

  ~liveness_rig() {
    server->shutdown(std::chrono::seconds{1});
    io->stop();
    caf::anon_send_exit(db_pool, caf::exit_reason::user_shutdown);
  }
};

} // namespace

TEST_CASE("healthz answers 200 while the settings cache answers", "[integration][liveness]") {
  liveness_rig rig;
  auto settings =
    actors::spawn_settings_cache(rig.system, rig.db_pool, std::chrono::milliseconds{1'000});
  rig.serve(settings);
  auto answer = test::http_get(rig.server->port(), "/healthz");
  CHECK(answer.status == 200);
  CHECK(answer.body == R"({"status":"ok"})");
  caf::anon_send_exit(settings, caf::exit_reason::user_shutdown);
}

TEST_CASE("healthz fails within its deadline when the request path is wedged",
          "[integration][liveness]") {
  liveness_rig rig;
  auto settings = rig.system.spawn(wedged_settings);
  rig.serve(settings);
  const auto started = std::chrono::steady_clock::now();
  auto answer = test::http_get(rig.server->port(), "/healthz");
  CHECK(answer.status == 503);
  CHECK(answer.body == R"({"status":"actors_unresponsive"})");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds{5});
  caf::anon_send_exit(settings, caf::exit_reason::user_shutdown);
}

TEST_CASE("healthz fails when the actor it asks is dead", "[integration][liveness]") {
  liveness_rig rig;
  auto settings =
    actors::spawn_settings_cache(rig.system, rig.db_pool, std::chrono::milliseconds{1'000});
  rig.serve(settings);
  caf::scoped_actor self{rig.system};
  self->send_exit(settings, caf::exit_reason::kill);
  self->wait_for(settings);
  CHECK(test::http_get(rig.server->port(), "/healthz").status == 503);
}
