#include "edge/app/gateway_node.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include "actors/account/account_custody.hpp"
#include "actors/db/db_worker.hpp"
#include "actors/jobs/job_handler.hpp"
#include "actors/jobs/job_metrics.hpp"
#include "actors/jobs/job_scheduler.hpp"
#include "actors/jobs/job_store.hpp"
#include "actors/jobs/job_worker.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/runtime/io_coordinator.hpp"
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
#include "common/stop_stack.hpp"
#include "domain/accounts/account_ownership.hpp"
#include "domain/operators/login_throttle.hpp"
#include "domain/settings/settings_service.hpp"
#include "edge/app/service_wiring.hpp"
#include "edge/routes/admin_api/admin_routes.hpp"
#include "edge/routes/admin_api/quota_routes.hpp"
#include "edge/routes/admin_api/stats_routes.hpp"
#include "edge/routes/admin_api/system_routes.hpp"
#include "edge/routes/admin_ui_routes.hpp"
#include "edge/routes/codex/codex_auth.hpp"
#include "edge/routes/codex/codex_routes.hpp"
#include "edge/routes/codex/websocket_route.hpp"
#include "edge/routes/health_routes.hpp"
#include "edge/routes/mcp/mcp_routes.hpp"
#include "edge/routes/onboarding/onboarding_node.hpp"
#include "edge/routes/v1/v1_routes.hpp"
#include "edge/server/actor_bridge.hpp"
#include "edge/server/http_metrics.hpp"
#include "edge/server/http_server.hpp"

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
/// The queue keeper's pass (rescue, prune, gauges) runs at the lease's renewal pace, at most this
/// far apart.
constexpr auto max_keeper_interval = std::chrono::milliseconds{15'000};
/// How long a draining node waits for the scheduler lease to be released.
constexpr auto scheduler_release_timeout = std::chrono::seconds{3};

/// What each role runs (README "Roles"): `web` serves the gateway and the admin API, `worker`
/// runs jobs, `scheduler` decides when jobs are due; `all` is all three. Every role serves
/// /healthz, /readyz and /metrics.
bool serves_traffic(node_role role) {
  return role == node_role::all || role == node_role::web;
}
bool runs_jobs(node_role role) {
  return role == node_role::all || role == node_role::worker;
}
bool schedules_jobs(node_role role) {
  return role == node_role::all || role == node_role::scheduler;
}

/// Asio threads, one io_context each; the actors run on them too (`actors::io_coordinator`), so
/// a request's hops to its actors wake no other thread. The database threads (detached actors
/// writing the request log) and the kernel's socket work keep a quarter of the cores (at least
/// one): on 2 cores one Asio thread costs less CPU per proxied request than two, and serves
/// more (bench/README.md).
size_t io_threads() {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(1, cores - std::max<size_t>(1, cores / 4));
}

bool is_clustered(const boot_config& config) {
  return !config.cluster_peers.empty() || !config.dns_cluster_query.empty();
}

caf::actor_system_config make_caf_config(const boot_config& config) {
  caf::actor_system_config caf_config;
  actors::io_coordinator::install(caf_config);
  caf_config.set("logger.file-verbosity", caf::atom("quiet"));
  caf_config.set("logger.console-verbosity", caf::atom("quiet"));
  actors::add_message_types(caf_config);
  cluster::add_cluster_message_types(caf_config);
  if (is_clustered(config)) {
    caf_config.load<caf::io::middleman>();
    // Peer liveness: BASP heartbeats, and a silent peer (partitioned rather than closed) is
    // declared dead, which drops it from the node actor's peers like a closed connection.
    caf_config.set("middleman.heartbeat-interval", caf::timespan{cluster_heartbeat_interval});
    caf_config.set("middleman.connection-timeout", caf::timespan{cluster_connection_timeout});
  }
  return caf_config;
}

/// Asks `actor` and waits (bounded) for any answer; `on_answer` sees it.
template <class Answer, class Handle, class... Ts>
void ask_and_wait(caf::actor_system& system, const Handle& actor, caf::timespan timeout,
                  std::function<void(caf::expected<Answer>)> on_answer, Ts... message) {
  std::promise<void> done;
  ask<Answer>(
    system, actor, timeout,
    [&done, &on_answer](caf::expected<Answer> answer) {
      on_answer(std::move(answer));
      done.set_value();
    },
    message...);
  done.get_future().wait();
}

/// Asks `actor` to hand its leases off and waits (bounded) for the count, logged as `what`.
template <class Handle>
void hand_off(caf::actor_system& system, const Handle& actor, const char* what) {
  ask_and_wait<int64_t>(
    system, actor, heartbeat_down_timeout,
    [what](caf::expected<int64_t> handed_off) {
      if (handed_off) {
        log::info("app", what, {{"count", *handed_off}});
      }
    },
    actors::hand_off_atom::value);
}

template <class Handle>
std::function<void()> exit_of(Handle handle) {
  return [handle] {
    caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  };
}

} // namespace

/// Everything the node owns, in construction order; the routes and sessions hold references
/// into it, so it outlives the Asio threads (stopped by `stop`).
struct gateway_node::parts {
  parts(const boot_config& boot, persistence::database& database, const service_wiring& services)
      : config(boot),
        db(database),
        wiring(services),
        caf_config(make_caf_config(boot)),
        system(caf_config),
        bridge(system),
        gateway_metrics(registry),
        job_metrics(registry),
        io(std::make_shared<io_pool>(io_threads())),
        node_id(new_uuid()) {}

  const boot_config& config;
  persistence::database& db;
  const service_wiring& wiring;
  caf::actor_system_config caf_config;
  caf::actor_system system;
  bridge_scope bridge;
  metrics::registry registry;
  actors::gateway_metrics gateway_metrics;
  actors::job_metrics job_metrics;
  std::shared_ptr<io_pool> io;
  actors::db_pool_actor db_pool;
  std::shared_ptr<actors::upstream_client> upstream;
  std::string node_id;
  std::unique_ptr<actors::runtime_deps> runtime_deps;
  route_table routes;
  http_server_options server_options;
  std::unique_ptr<http_server> server;
  std::unique_ptr<admin_runtime> admin;
  std::unique_ptr<codex_runtime> codex;
  std::unique_ptr<mcp_runtime> mcp;
  std::unique_ptr<onboarding_runtime> onboarding;
  std::unique_ptr<actors::stream_deps> stream_deps;
  std::unique_ptr<websocket_runtime> websockets;
  // Held for the drain, which talks to them by name.
  cluster::node_actor node;
  actors::account_custodian_actor custodian;
  cluster::node_heartbeat_actor heartbeat;
  std::unique_ptr<actors::job_services> job_services;
  actors::job_scheduler_actor scheduler;
  std::vector<actors::job_worker_actor> workers;
  stop_stack running;
};

gateway_node::gateway_node(const boot_config& config, persistence::database& db,
                           const service_wiring& wiring)
    : parts_(std::make_unique<parts>(config, db, wiring)) {}

gateway_node::~gateway_node() {
  stop();
}

std::optional<std::string> gateway_node::start() {
  auto& p = *parts_;
  const auto& config = p.config;
  auto& system = p.system;
  auto& context = *p.wiring.context;

  auto db_pool = actors::spawn_db_pool(system, p.db, config.pool_size);
  p.db_pool = db_pool;
  p.running.started("db_pool", exit_of(db_pool));
  auto settings = actors::spawn_settings_cache(system, db_pool, config.settings_poll_interval);
  p.running.started("settings", exit_of(settings));
  // Started before the upstream client so it stops after it: calls cut short at the upstream's
  // stop still have their rows written by the final flush.
  auto request_log = actors::spawn_request_log_writer(
    system, db_pool, request_log_flush_interval, p.gateway_metrics.request_logs_dropped.add({}));
  p.running.started("request_log", [&system, request_log] {
    ask_and_wait<bool>(
      system, request_log, request_log_final_flush, [](caf::expected<bool>) {},
      actors::flush_atom::value);
    caf::anon_send_exit(request_log, caf::exit_reason::user_shutdown);
  });
  p.io->start();
  actors::io_coordinator::of(system).attach(*p.io);
  p.running.started("io", [&system, io = p.io] {
    // The actors still ending (the log's final flush among them) run on their own thread.
    actors::io_coordinator::of(system).detach();
    io->stop();
  });
  actors::upstream_client_options upstream_options;
  upstream_options.io = p.io;
  p.upstream = std::make_shared<actors::upstream_client>(upstream_options);
  p.running.started("upstream", [upstream = p.upstream] { upstream->stop(); });

  // The custodian, the directory and the account actors keep a pointer to these.
  p.runtime_deps.reset(new actors::runtime_deps{db_pool, p.upstream, context,
                                                config.upstream_base_url, config.oauth_token_url,
                                                p.gateway_metrics, p.node_id});
  const auto& runtime_deps = *p.runtime_deps;
  // One owner per account across the cluster; a web node keeps replicas only.
  p.custodian = actors::spawn_account_custodian(
    system, runtime_deps,
    {p.node_id, domain::role_may_own_accounts(to_string(config.role)), config.account_lease_ttl});
  p.running.started("account_custody", exit_of(p.custodian));
  auto directory = actors::spawn_runtime_directory(system, runtime_deps, settings, p.custodian,
                                                   topology_reload_interval);
  p.running.started("runtime_directory", exit_of(directory));

  p.server_options.bind_address = config.bind_address;
  p.server_options.port = config.port;
  p.server_options.io = p.io;
  p.server_options.ingress = std::make_shared<ingress_policy>();
  // The first connection must meet the stored firewall and limits, not the defaults the
  // refresher would replace a second later.
  if (auto stored = domain::load_instance_settings(p.db)) {
    p.server_options.ingress->update(
      std::make_shared<const domain::instance_settings>(std::move(*stored)));
  } else {
    log::warn("app", "ingress settings unavailable at start; the defaults apply until they load",
              {{"error", context_of(stored.error())}});
  }
  p.server =
    std::make_unique<http_server>(p.server_options, p.routes, make_http_metrics(p.registry));
  auto ingress_refresher = spawn_ingress_refresher(
    system, settings, p.server_options.ingress,
    [server = p.server.get()](const ingress_rules& rules) { server->refirewall_websockets(rules); },
    ingress_refresh_interval);
  p.running.started("ingress_refresher", exit_of(ingress_refresher));

  add_health_routes(p.routes, {system, db_pool, p.server->state(), p.registry, settings,
                               context.token_hash_key, p.custodian, p.io});
  if (serves_traffic(config.role)) {
    p.admin = std::make_unique<admin_runtime>(
      admin_runtime{system, db_pool, context, std::make_shared<domain::login_throttle>()});
    add_auth_routes(p.routes, *p.admin);
    add_admin_resource_routes(p.routes, *p.admin);
    // Built in place: the runtime holds the key cache, which holds a mutex.
    p.codex.reset(new codex_runtime{system, db_pool, directory, request_log, p.upstream, context,
                                    config.upstream_base_url, p.gateway_metrics, p.io,
                                    std::make_shared<admission_control>(p.gateway_metrics)});
    add_codex_routes(p.routes, *p.codex);
    p.mcp = std::make_unique<mcp_runtime>(
      mcp_runtime{system, db_pool, settings, context, p.codex->admission});
    add_mcp_routes(p.routes, *p.mcp);
    auto key_cache_listener = spawn_key_cache_listener(system, p.codex->keys);
    p.running.started("key_cache_listener", exit_of(key_cache_listener));
  }

  p.stream_deps = std::make_unique<actors::stream_deps>(
    actors::stream_deps{directory, request_log, actors::ws_transport::start(websocket_io_threads),
                        config.upstream_base_url, context.clock, p.gateway_metrics,
                        websocket_owner_idle_default, websocket_max_message_bytes});
  p.running.started("websocket_transport",
                    [deps = p.stream_deps.get()] { deps->transport.stop(); });
  auto stream_registry = actors::spawn_stream_registry(system, *p.stream_deps);
  p.running.started("stream_registry", exit_of(stream_registry));
  // The edge opens sessions through the node actor, which owns the session leases and forwards
  // to the owner node's stream when another node holds the lease. Every role runs it: it is
  // what peers connect to, and the notices they broadcast (key, settings, token changes) reach
  // a node's caches and accounts through it.
  p.node =
    cluster::spawn_node_actor(system, {p.node_id, db_pool, stream_registry, settings,
                                       config.session_lease_ttl, config.session_lease_renewal});
  p.running.started("node", exit_of(p.node));
  if (serves_traffic(config.role)) {
    p.websockets = std::make_unique<websocket_runtime>(
      websocket_runtime{*p.codex, settings, p.node, config.key_recheck_interval});
    add_websocket_routes(p.routes, *p.websockets);
    add_v1_routes(p.routes, *p.codex);
    add_system_routes(p.routes, *p.admin);
    add_quota_routes(p.routes, *p.admin);
    add_stats_routes(p.routes, *p.admin);
    p.onboarding = start_onboarding(p.routes, system, p.db, context, p.admin->throttle, p.upstream,
                                    config.oauth_issuer_url, p.running);
    // Last: its /admin/* fallback must not shadow the admin API's routes.
    add_admin_ui_routes(p.routes, *p.admin, embedded_admin_ui_assets());
  }

  uint16_t cluster_port = 0;
  if (is_clustered(config)) {
    auto published =
      system.middleman().publish(p.node, config.cluster_port, config.bind_address.c_str());
    if (!published) {
      stop();
      return "CODEX_POOLER_CLUSTER_PORT: " + system.render(published.error());
    }
    cluster_port = *published;
  }
  if (auto started = p.server->start(); !started) {
    stop();
    return "PORT: " + context_of(started.error());
  }
  if (is_clustered(config)) {
    auto dialer = cluster::spawn_peer_dialer(system);
    p.running.started("peer_dialer", exit_of(dialer));
    auto discovery = cluster::spawn_peer_discovery(
      system,
      {config.cluster_peers, config.dns_cluster_query, config.cluster_port,
       cluster_discovery_interval, p.node, &p.gateway_metrics.cluster_peers_expected,
       &p.gateway_metrics.cluster_peers_connected},
      dialer);
    p.running.started("peer_discovery", exit_of(discovery));
  }
  start_jobs();
  const cluster::node_identity identity{
    p.node_id,        config.node_name, std::string{to_string(config.role)},
    config.node_name, p.server->port(), cluster_port};
  // A node is a candidate to own accounts while its heartbeat is younger than the lease TTL.
  p.heartbeat = cluster::spawn_node_heartbeat(
    system, db_pool, identity, std::min(heartbeat_interval, config.account_lease_ttl / 3));
  // Marked down first on the way out: peers stop counting on it at once.
  p.running.started("heartbeat", [&system, heartbeat = p.heartbeat] {
    ask_and_wait<bool>(
      system, heartbeat, heartbeat_down_timeout, [](caf::expected<bool>) {},
      actors::down_atom::value);
  });
  log::info("app", "listening",
            {{"port", p.server->port()},
             {"role", to_string(config.role)},
             {"node_id", identity.id},
             {"database", config.database.redacted()}});
  return std::nullopt;
}

void gateway_node::start_jobs() {
  auto& p = *parts_;
  const auto& config = p.config;
  const auto& clock = p.wiring.context->clock;
  const domain::job_tuning tuning{config.job_every, config.job_timeout};
  if (schedules_jobs(config.role)) {
    auto store = actors::spawn_job_store(p.system, p.db_pool, clock);
    p.scheduler = actors::spawn_job_scheduler(
      p.system, store,
      {p.node_id, config.scheduler_lease_ttl,
       std::min<std::chrono::milliseconds>(max_keeper_interval, config.scheduler_lease_ttl / 3),
       tuning, clock, p.job_metrics, p.gateway_metrics.actor_restarts.add({})});
    p.running.started("job_scheduler", [scheduler = p.scheduler, store] {
      caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
    });
  }
  if (runs_jobs(config.role) && config.job_workers > 0) {
    // Handlers block on the database and the upstream, so each worker has its own thread and
    // calls the repositories directly.
    // The handlers keep a reference to their services, which live as long as the node.
    p.job_services.reset(new actors::job_services{p.system, p.db, *p.runtime_deps});
    auto handlers =
      std::make_shared<const actors::job_handlers>(actors::make_job_handlers(*p.job_services));
    for (size_t i = 0; i < config.job_workers; ++i) {
      p.workers.push_back(actors::spawn_job_worker(
        p.system,
        std::make_shared<actors::job_runner>(p.db, handlers, clock, p.job_metrics,
                                             p.node_id + "/w" + std::to_string(i)),
        config.job_poll_interval));
    }
    p.running.started("job_workers", [workers = p.workers] {
      // A worker ends after the run in hand: waited for here, because the handlers use parts of
      // the node (its services, the runtime) that are torn down after this step.
      std::vector<std::future<void>> ended;
      for (const auto& worker : workers) {
        auto done = std::make_shared<std::promise<void>>();
        ended.push_back(done->get_future());
        worker->attach_functor([done] { done->set_value(); });
        caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
      }
      for (auto& end : ended) {
        end.wait();
      }
    });
  }
}

void gateway_node::drain(int signal_number) {
  auto& p = *parts_;
  const auto grace = p.config.shutdown_grace;
  log::info("app", "draining", {{"signal", signal_number}, {"grace_ms", grace.count()}});
  caf::anon_send(p.heartbeat, actors::drain_atom::value);
  // The scheduler lease first: a standby takes over at once instead of after the TTL.
  if (p.scheduler) {
    ask_and_wait<bool>(
      p.system, p.scheduler, scheduler_release_timeout, [](caf::expected<bool>) {},
      actors::drain_atom::value);
  }
  // Workers stop claiming; the jobs they are running get the grace, alongside the requests (a
  // worker answers between two runs). A job still running after it is claimed again elsewhere
  // once its timeout passes.
  auto workers_pending = std::make_shared<std::atomic<size_t>>(p.workers.size());
  auto jobs_finished = std::make_shared<std::promise<void>>();
  auto jobs_done = jobs_finished->get_future();
  if (p.workers.empty()) {
    jobs_finished->set_value();
  }
  for (const auto& worker : p.workers) {
    ask<bool>(
      p.system, worker, grace,
      [workers_pending, jobs_finished](caf::expected<bool> drained) {
        if (!drained) {
          log::warn("app", "shutdown deadline passed with a job running");
        }
        if (--*workers_pending == 0) {
          jobs_finished->set_value();
        }
      },
      actors::drain_atom::value);
  }
  // HTTP requests and websocket turns (of this node's sessions, for clients here or forwarded
  // from peers) get the same deadline.
  std::promise<void> turns_finished;
  ask<int64_t>(
    p.system, p.node, grace,
    [&turns_finished](caf::expected<int64_t> streams) {
      if (!streams) {
        log::warn("app", "shutdown deadline passed with websocket turns running");
      }
      turns_finished.set_value();
    },
    actors::drain_atom::value);
  if (const auto unfinished = p.server->shutdown(grace); unfinished > 0) {
    log::warn("app", "shutdown deadline passed with requests in flight",
              {{"in_flight", unfinished}});
  }
  turns_finished.get_future().wait();
  jobs_done.wait();
  // The sessions are handed off: another node takes each over at once, on its account, instead
  // of after the lease TTL.
  hand_off(p.system, p.node, "session leases handed off");
  // Its accounts too: their next owners take them over at once instead of after the TTL.
  hand_off(p.system, p.custodian, "account leases handed off");
  // Its clients reconnect elsewhere and find their sessions there.
  if (const auto open = p.server->close_websockets(ws_close_going_away, "server is shutting down",
                                                   websocket_goodbye_timeout);
      open > 0) {
    log::warn("app", "websockets did not finish closing", {{"open", open}});
  }
}

void gateway_node::stop() {
  if (parts_) {
    parts_->running.stop_all(
      [](const std::string& name) { log::debug("app", "stopping " + name); });
  }
}

} // namespace cxp::edge
