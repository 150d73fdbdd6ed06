#include "actors/type_ids.hpp"

#include "actors/stream/stream_messages.hpp"

namespace cxp::actors {

void add_message_types(caf::actor_system_config& config) {
  // Cluster messages are announced here as issue #5 adds them; node-local messages need no entry.
  config.add_message_type<stream_attach>("cxp.stream_attach")
    .add_message_type<stream_detach>("cxp.stream_detach")
    .add_message_type<stream_turn>("cxp.stream_turn")
    .add_message_type<stream_forward>("cxp.stream_forward")
    .add_message_type<stream_frame>("cxp.stream_frame")
    .add_message_type<stream_ack>("cxp.stream_ack")
    .add_message_type<stream_turn_done>("cxp.stream_turn_done")
    .add_message_type<stream_closed>("cxp.stream_closed")
    .add_message_type<stream_open>("cxp.stream_open")
    .add_message_type<stream_opened>("cxp.stream_opened")
    .add_message_type<stream_alias>("cxp.stream_alias")
    .add_message_type<stream_account>("cxp.stream_account")
    .add_message_type<std::vector<std::pair<std::string, std::string>>>("cxp.header_list");
}

} // namespace cxp::actors
