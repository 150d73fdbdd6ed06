#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "persistence/cluster_nodes/cluster_node_repository.hpp"

namespace cxp::cluster {

/// Who this node is, as recorded in `cluster_nodes`.
struct node_identity {
  std::string id; ///< a UUID, new for every process start
  std::string name;
  std::string role;
  std::string host;
  int32_t http_port = 0;
  int32_t cluster_port = 0;
};

/// The heartbeat's interface: `actors::drain_atom` marks the node `draining`; `actors::down_atom`
/// marks it `down`, answers `true` once written (or failed) and quits.
using node_heartbeat_actor = caf::typed_actor<caf::reacts_to<actors::drain_atom>,
                                              caf::replies_to<actors::down_atom>::with<bool>>;

/// Spawns the actor that registers this node in `cluster_nodes` and renews its heartbeat every
/// `interval`. Sending it `actors::drain_atom` marks the node `draining`; `down` marks it `down`,
/// answers `true` once written (or failed) and quits. Database writes go through `db_pool`.
node_heartbeat_actor spawn_node_heartbeat(caf::actor_system& system, actors::db_pool_actor db_pool,
                                          node_identity identity,
                                          std::chrono::milliseconds interval);

} // namespace cxp::cluster
