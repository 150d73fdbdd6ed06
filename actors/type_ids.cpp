#include "actors/type_ids.hpp"

namespace cxp::actors {

void add_message_types(caf::actor_system_config&) {
  // Cluster messages are announced here as issue #5 adds them; node-local messages need no entry.
}

} // namespace cxp::actors
