#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// A node of the cluster as recorded in `cluster_nodes`.
struct cluster_node_row {
  std::string id;
  std::string name;
  std::string role;
  std::string host;
  int32_t http_port = 0;
  int32_t cluster_port = 0;
  std::string status; ///< up | draining | down
  std::string started_at;
  std::string last_heartbeat_at;
};

/// All SQL on `cluster_nodes`: the durable record of membership and liveness.
class cluster_node_repository {
public:
  explicit cluster_node_repository(database& db) : db_(db) {}

  /// Inserts or replaces the row of `node.id` (a restarted node re-registers under its id).
  caf::expected<void> register_node(const cluster_node_row& node);

  caf::expected<void> heartbeat(const std::string& id, const std::string& status,
                                const std::string& at);

  caf::expected<std::vector<cluster_node_row>> list();

private:
  database& db_;
};

} // namespace cxp::persistence
