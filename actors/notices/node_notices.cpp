#include "actors/notices/node_notices.hpp"

#include <caf/send.hpp>

namespace cxp::actors {

template <>
caf::group notice_board<api_key_changed>(caf::actor_system& system) {
  return system.groups().get_local("cxp.notices.api_key_changed");
}

template <>
caf::group notice_board<settings_changed>(caf::actor_system& system) {
  return system.groups().get_local("cxp.notices.settings_changed");
}

template <>
caf::group notice_board<account_tokens_changed>(caf::actor_system& system) {
  return system.groups().get_local("cxp.notices.account_tokens_changed");
}

template <class Notice>
void announce(caf::actor_system& system, Notice notice) {
  caf::anon_send(notice_board<Notice>(system), std::move(notice));
}

template void announce(caf::actor_system&, api_key_changed);
template void announce(caf::actor_system&, settings_changed);
template void announce(caf::actor_system&, account_tokens_changed);

} // namespace cxp::actors
