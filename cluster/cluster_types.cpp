#include "cluster/cluster_types.hpp"

#include "cluster/envelope/cluster_envelope.hpp"

namespace cxp::cluster {

void add_cluster_message_types(caf::actor_system_config& config) {
  config.add_message_type<cluster_envelope>("cxp.cluster_envelope");
}

} // namespace cxp::cluster
