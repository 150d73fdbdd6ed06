#include "actors/notices/node_notices.hpp"

#include <caf/send.hpp>

namespace cxp::actors {

caf::group notice_board(caf::actor_system& system) {
  return system.groups().get_local("cxp.node_notices");
}

template <class Notice>
void announce(caf::actor_system& system, Notice notice) {
  caf::anon_send(notice_board(system), std::move(notice));
}

template void announce(caf::actor_system&, api_key_changed);
template void announce(caf::actor_system&, settings_changed);

} // namespace cxp::actors
