#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/boot_config.hpp"

namespace cxp::persistence {
class database;
}

namespace cxp::edge {

struct service_wiring;

/// One gateway process: its actor system, database workers, settings, account custody, routing,
/// request log, HTTP/websocket server, cluster node, heartbeat and, by role, the jobs (`web`:
/// the gateway and admin routes, no jobs; `worker`: job workers, only health and metrics routes;
/// `scheduler`: the scheduler group, only health and metrics routes; `all`: everything). `start`
/// brings the parts up in dependency order; `drain` stops taking work and lets running work
/// finish (releasing the scheduler lease, handing sessions and accounts to other nodes); `stop`
/// stops the parts last-started first.
class gateway_node {
public:
  gateway_node(const boot_config& config, persistence::database& db, const service_wiring& wiring);
  ~gateway_node();
  gateway_node(const gateway_node&) = delete;
  gateway_node& operator=(const gateway_node&) = delete;

  /// Starts every part. On failure, stops what did start and answers why (for stderr).
  std::optional<std::string> start();

  /// Marks the node draining and waits (within the shutdown grace) for requests and websocket
  /// turns, then hands off sessions and accounts and closes client websockets.
  void drain(int signal_number);

  /// Stops every started part in reverse order. Idempotent.
  void stop();

private:
  /// The scheduler group and the job workers this node's role runs.
  void start_jobs();

  struct parts;
  std::unique_ptr<parts> parts_;
};

} // namespace cxp::edge
