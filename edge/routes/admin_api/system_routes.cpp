#include "edge/routes/admin_api/system_routes.hpp"

#include "persistence/cluster_nodes/cluster_node_repository.hpp"

namespace cxp::edge {

namespace {

// Set for this file by edge/CMakeLists.txt from the CMake project version.
constexpr std::string_view build_version = CXP_BUILD_VERSION;

nlohmann::json to_json(const persistence::cluster_node_row& node) {
  return {{"id", node.id},
          {"name", node.name},
          {"role", node.role},
          {"host", node.host},
          {"http_port", node.http_port},
          {"cluster_port", node.cluster_port},
          {"status", node.status},
          {"started_at", node.started_at},
          {"last_heartbeat_at", node.last_heartbeat_at}};
}

} // namespace

void add_system_routes(route_table& routes, const admin_runtime& runtime) {
  routes.add(http::verb::get, "/admin/api/system", [&runtime](const exchange_ptr& ex) {
    run_admin(runtime, ex, admin_access::session,
              [&runtime](const domain::principal&, const nlohmann::json&) {
                auto& db = runtime.services.db;
                auto nodes = persistence::cluster_node_repository{db}.list();
                if (!nodes) {
                  return caf::expected<admin_reply>{nodes.error()};
                }
                admin_reply reply;
                reply.body = {
                  {"build", {{"version", build_version}}},
                  {"database", db.kind() == database_kind::postgres ? "postgresql" : "sqlite"},
                  {"nodes", nlohmann::json::array()}};
                for (const auto& node : *nodes) {
                  reply.body["nodes"].push_back(to_json(node));
                }
                return caf::expected<admin_reply>{std::move(reply)};
              });
  });
}

} // namespace cxp::edge
