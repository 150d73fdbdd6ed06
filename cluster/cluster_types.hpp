#pragma once

#include <caf/actor_system_config.hpp>

namespace cxp::cluster {

/// Announces the inter-node envelope (call next to `actors::add_message_types`; the envelope
/// lives above actors/, so it cannot be announced there).
void add_cluster_message_types(caf::actor_system_config& config);

} // namespace cxp::cluster
