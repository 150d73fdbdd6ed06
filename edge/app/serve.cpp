#include "edge/app/serve.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include "actors/account/account_custody.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/runtime/runtime_directory.hpp"
#include "actors/settings/settings_cache.hpp"
#include "actors/stream/stream_registry.hpp"
#include "actors/type_ids.hpp"
#include "cluster/cluster_types.hpp"
#include "cluster/discovery/peer_discovery.hpp"
#include "cluster/membership/node_heartbeat.hpp"
#include "cluster/node/node_actor.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "common/metrics/registry.hpp"
#include "domain/accounts/account_ownership.hpp"
#include "domain/operators/login_throttle.hpp"
#include "edge/app/service_wiring.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"
#include "edge/routes/codex/codex_auth.hpp"
#include "edge/routes/codex/codex_routes.hpp"
#include "edge/routes/codex/websocket_route.hpp"
#include "edge/routes/health_routes.hpp"
#include "edge/routes/v1/v1_routes.hpp"
#include "edge/server/actor_bridge.hpp"
#include "edge/server/http_metrics.hpp"
#include "edge/server/http_server.hpp"
#include "persistence/migrate/migrator.hpp"
#include "persistence/settings/settings_repository.hpp"

namespace cxp::edge {

namespace {

constexpr auto heartbeat_interval = std::chrono::milliseconds{5'000};
constexpr auto heartbeat_down_timeout = std::chrono::seconds{3};
constexpr auto cluster_discovery_interval = std::chrono::seconds{2};
constexpr auto cluster_heartbeat_interval = std::chrono::seconds{1};
constexpr auto cluster_connection_timeout = std::chrono::seconds{5};
constexpr auto topology_reload_interval = std::chrono::seconds{3};
constexpr auto ingress_refresh_interval = std::chrono::milliseconds{1'000};
constexpr auto request_log_flush_interval = std::chrono::milliseconds{250};
constexpr auto request_log_final_flush = std::chrono::seconds{10};
/// How long a stopping node waits for its websocket clients to answer its close frames.
constexpr auto websocket_goodbye_timeout = std::chrono::seconds{2};
constexpr size_t websocket_io_threads = 1;
constexpr auto websocket_owner_idle_default = std::chrono::minutes{30};
constexpr uint64_t websocket_max_message_bytes = 64u << 20;

/// Asio threads (one io_context each) and CAF workers for this machine. The request path is
/// mostly socket work and every hop between the two is a thread wake-up, so CAF gets a quarter
/// of the cores (at least one) and Asio the rest.
struct thread_plan {
  size_t io;
  size_t caf;
};

thread_plan plan_threads() {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t caf = std::max<size_t>(1, cores / 4);
  return {std::max<size_t>(1, cores - caf), caf};
}

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
  return true;
}

/// Asks `actor` to hand its leases off and waits (bounded) for the count, logged as `what`.
template <class Atom>
void hand_off(caf::actor_system& system, const caf::actor& actor, Atom atom, const char* what) {
  std::promise<void> done;
  ask<int64_t>(
    system, actor, heartbeat_down_timeout,
    [&done, what](caf::expected<int64_t> handed_off) {
      if (handed_off) {
        log::info("app", what, {{"count", *handed_off}});
      }
      done.set_value();
    },
    atom);
  done.get_future().wait();
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

  caf::actor_system_config caf_config;
  const auto threads = plan_threads();
  caf_config.set("scheduler.max-threads", threads.caf);
  // Work stealing lets idle workers sleep in fixed slices (10 ms by default) without being
  // woken, which shows up directly in request latency; the sharing policy wakes them at once.
  caf_config.set("scheduler.policy", caf::atom("sharing"));
  caf_config.set("logger.file-verbosity", caf::atom("quiet"));
  caf_config.set("logger.console-verbosity", caf::atom("quiet"));
  actors::add_message_types(caf_config);
  cluster::add_cluster_message_types(caf_config);
  const bool clustered = !config.cluster_peers.empty() || !config.dns_cluster_query.empty();
  if (clustered) {
    caf_config.load<caf::io::middleman>();
    // Peer liveness: BASP heartbeats, and a silent peer (partitioned rather than closed) is
    // declared dead, which drops it from the node actor's peers like a closed connection.
    caf_config.set("middleman.heartbeat-interval", caf::timespan{cluster_heartbeat_interval});
    caf_config.set("middleman.connection-timeout", caf::timespan{cluster_connection_timeout});
  }
  caf::actor_system system{caf_config};
  const bridge_scope bridge{system};

  auto db_pool = actors::spawn_db_pool(system, **db, config.pool_size);
  auto settings = actors::spawn_settings_cache(system, db_pool, config.settings_poll_interval);

  metrics::registry registry;
  actors::gateway_metrics gateway_metrics{registry};
  auto io = std::make_shared<io_pool>(threads.io);
  io->start();
  actors::upstream_client_options upstream_options;
  upstream_options.io = io;
  auto upstream = std::make_shared<actors::upstream_client>(upstream_options);
  const auto node_id = new_uuid();
  const actors::runtime_deps runtime_deps{db_pool,
                                          upstream,
                                          *(*wiring)->context,
                                          config.upstream_base_url,
                                          config.oauth_token_url,
                                          gateway_metrics,
                                          node_id};
  // One owner per account across the cluster; a web node keeps replicas only.
  auto custodian = actors::spawn_account_custodian(
    system, runtime_deps,
    {node_id, domain::role_may_own_accounts(to_string(config.role)), config.account_lease_ttl});
  auto directory = actors::spawn_runtime_directory(system, runtime_deps, settings, custodian,
                                                   topology_reload_interval);
  auto request_log = actors::spawn_request_log_writer(system, db_pool, request_log_flush_interval,
                                                      gateway_metrics.request_logs_dropped.add({}));
  route_table routes;
  http_server_options options;
  options.bind_address = config.bind_address;
  options.port = config.port;
  options.io = io;
  options.ingress = std::make_shared<ingress_policy>();
  // The first connection must meet the stored firewall and limits, not the defaults the
  // refresher would replace a second later.
  if (auto stored = persistence::settings_repository{**db}.load_all()) {
    std::map<std::string, std::string> values;
    for (auto& [key, row] : *stored) {
      values.emplace(key, std::move(row.value_json));
    }
    options.ingress->update(std::make_shared<const domain::instance_settings>(
      domain::instance_settings::from_stored(values)));
  } else {
    log::warn("app", "ingress settings unavailable at start; the defaults apply until they load",
              {{"error", context_of(stored.error())}});
  }
  http_server server{options, routes, make_http_metrics(registry)};
  auto ingress_refresher = spawn_ingress_refresher(
    system, settings, options.ingress,
    [&server](const ingress_rules& rules) { server.refirewall_websockets(rules); },
    ingress_refresh_interval);
  add_health_routes(routes, {system, db_pool, server.state(), registry, settings,
                             (*wiring)->context->token_hash_key, custodian, io});
  const admin_runtime admin{system, db_pool, *(*wiring)->context,
                            std::make_shared<domain::login_throttle>()};
  add_auth_routes(routes, admin);
  add_admin_resource_routes(routes, admin);
  codex_runtime codex{system,
                      db_pool,
                      directory,
                      request_log,
                      upstream,
                      *(*wiring)->context,
                      config.upstream_base_url,
                      gateway_metrics,
                      io,
                      std::make_shared<admission_control>(gateway_metrics)};
  add_codex_routes(routes, codex);
  auto key_cache_listener = spawn_key_cache_listener(system, codex.keys);
  actors::stream_deps stream_deps{directory,
                                  request_log,
                                  actors::ws_transport::start(websocket_io_threads),
                                  config.upstream_base_url,
                                  (*wiring)->context->clock,
                                  gateway_metrics,
                                  websocket_owner_idle_default,
                                  websocket_max_message_bytes};
  auto stream_registry = actors::spawn_stream_registry(system, stream_deps);
  // The edge opens sessions through the node actor, which owns the session leases and forwards
  // to the owner node's stream when another node holds the lease.
  auto node =
    cluster::spawn_node_actor(system, {node_id, db_pool, stream_registry, settings,
                                       config.session_lease_ttl, config.session_lease_renewal});
  websocket_runtime websockets{codex, settings, node, config.key_recheck_interval};
  add_websocket_routes(routes, websockets);
  add_v1_routes(routes, codex);

  uint16_t cluster_port = 0;
  std::string startup_failure;
  if (clustered) {
    auto published =
      system.middleman().publish(node, config.cluster_port, config.bind_address.c_str());
    if (published) {
      cluster_port = *published;
    } else {
      startup_failure = "CODEX_POOLER_CLUSTER_PORT: " + system.render(published.error());
    }
  }
  if (startup_failure.empty()) {
    if (auto started = server.start(); !started) {
      startup_failure = "PORT: " + context_of(started.error());
    }
  }
  if (!startup_failure.empty()) {
    std::fprintf(stderr, "codex-pooler: %s\n", startup_failure.c_str());
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(key_cache_listener, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(stream_registry, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(custodian, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(request_log, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db_pool, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(settings, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ingress_refresher, caf::exit_reason::user_shutdown);
    return 1;
  }
  caf::actor discovery;
  if (clustered) {
    discovery = cluster::spawn_peer_discovery(
      system, {config.cluster_peers, config.dns_cluster_query, config.cluster_port,
               cluster_discovery_interval, node});
  }
  const cluster::node_identity identity{
    node_id,          config.node_name, std::string{to_string(config.role)},
    config.node_name, server.port(),    cluster_port};
  // A node is a candidate to own accounts while its heartbeat is younger than the lease TTL.
  auto heartbeat = cluster::spawn_node_heartbeat(
    system, db_pool, identity, std::min(heartbeat_interval, config.account_lease_ttl / 3));
  log::info("app", "listening",
            {{"port", server.port()},
             {"role", to_string(config.role)},
             {"node_id", identity.id},
             {"database", config.database.redacted()}});

  const int signal_number = wait_for_signal();
  log::info("app", "draining",
            {{"signal", signal_number}, {"grace_ms", config.shutdown_grace.count()}});
  caf::anon_send(heartbeat, actors::drain_atom::value);
  // HTTP requests and websocket turns (of this node's sessions, for clients here or forwarded
  // from peers) get the same deadline.
  std::promise<void> turns_finished;
  ask<int64_t>(
    system, node, config.shutdown_grace,
    [&turns_finished](caf::expected<int64_t> streams) {
      if (!streams) {
        log::warn("app", "shutdown deadline passed with websocket turns running");
      }
      turns_finished.set_value();
    },
    actors::drain_atom::value);
  const auto unfinished = server.shutdown(config.shutdown_grace);
  if (unfinished > 0) {
    log::warn("app", "shutdown deadline passed with requests in flight",
              {{"in_flight", unfinished}});
  }
  turns_finished.get_future().wait();
  // The sessions are handed off: another node takes each over at once, on its account, instead
  // of after the lease TTL.
  hand_off(system, node, actors::hand_off_atom::value, "session leases handed off");
  // Its accounts too: their next owners take them over at once instead of after the TTL.
  hand_off(system, custodian, actors::hand_off_atom::value, "account leases handed off");
  // Its clients reconnect elsewhere and find their sessions there.
  if (const auto open = server.close_websockets(ws_close_going_away, "server is shutting down",
                                                websocket_goodbye_timeout);
      open > 0) {
    log::warn("app", "websockets did not finish closing", {{"open", open}});
  }
  if (discovery) {
    caf::anon_send_exit(discovery, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(key_cache_listener, caf::exit_reason::user_shutdown);

  // Sessions and upstream calls hold references to the routes and runtime on this stack.
  upstream->stop();
  io->stop();

  std::promise<void> logs_flushed;
  ask<bool>(
    system, request_log, request_log_final_flush,
    [&logs_flushed](caf::expected<bool>) { logs_flushed.set_value(); }, actors::flush_atom::value);
  logs_flushed.get_future().wait();
  caf::anon_send_exit(stream_registry, caf::exit_reason::user_shutdown);
  stream_deps.transport.stop();
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(custodian, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(request_log, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ingress_refresher, caf::exit_reason::user_shutdown);

  std::promise<void> marked_down;
  ask<bool>(
    system, heartbeat, heartbeat_down_timeout,
    [&marked_down](caf::expected<bool>) { marked_down.set_value(); }, actors::down_atom::value);
  marked_down.get_future().wait();
  caf::anon_send_exit(settings, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db_pool, caf::exit_reason::user_shutdown);
  log::info("app", "stopped");
  return 0;
}

} // namespace cxp::edge
