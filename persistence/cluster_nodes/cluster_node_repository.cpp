#include "persistence/cluster_nodes/cluster_node_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

caf::expected<void> cluster_node_repository::register_node(const cluster_node_row& node) {
  return db_.run([&](soci::session& sql) {
    sql
      << "INSERT INTO cluster_nodes (id, name, role, host, http_port, cluster_port, status, "
         "started_at, "
         "last_heartbeat_at) VALUES (:id, :name, :role, :host, :http_port, :cluster_port, :status, "
         ":started_at, :last_heartbeat_at) "
         "ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, host = "
         "excluded.host, "
         "http_port = excluded.http_port, cluster_port = excluded.cluster_port, status = "
         "excluded.status, "
         "started_at = excluded.started_at, last_heartbeat_at = excluded.last_heartbeat_at",
      soci::use(node.id), soci::use(node.name), soci::use(node.role), soci::use(node.host),
      soci::use(node.http_port), soci::use(node.cluster_port), soci::use(node.status),
      soci::use(node.started_at), soci::use(node.last_heartbeat_at);
  });
}

caf::expected<void> cluster_node_repository::heartbeat(const std::string& id,
                                                       const std::string& status,
                                                       const std::string& at) {
  return db_.run([&](soci::session& sql) {
    // A node id is used by one process only, so "down" is final: a heartbeat that was still in
    // flight on another db worker must not resurrect it.
    sql << "UPDATE cluster_nodes SET status = :status, last_heartbeat_at = :at WHERE id = :id AND "
           "status <> 'down'",
      soci::use(status), soci::use(at), soci::use(id);
  });
}

caf::expected<std::vector<cluster_node_row>> cluster_node_repository::list() {
  return db_.run([](soci::session& sql) {
    std::vector<cluster_node_row> nodes;
    soci::rowset<soci::row> result =
      sql.prepare << "SELECT id, name, role, host, http_port, cluster_port, status, "
                     "started_at, last_heartbeat_at FROM cluster_nodes ORDER BY name, id";
    for (const auto& row : result) {
      row_reader r{row};
      nodes.push_back({r.text(0), r.text(1), r.text(2), r.text(3), static_cast<int32_t>(r.int64(4)),
                       static_cast<int32_t>(r.int64(5)), r.text(6), r.text(7), r.text(8)});
    }
    return nodes;
  });
}

} // namespace cxp::persistence
