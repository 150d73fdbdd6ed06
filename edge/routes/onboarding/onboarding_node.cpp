#include "edge/routes/onboarding/onboarding_node.hpp"

#include <caf/send.hpp>

#include "actors/onboarding/device_poller.hpp"
#include "actors/onboarding/oauth_http_transport.hpp"
#include "edge/routes/onboarding/invite_routes.hpp"

namespace cxp::edge {

namespace {

constexpr size_t onboarding_workers = 2;
/// Under the admin routes' 15 s reply timeout, so an operator gets the flow's own error rather
/// than a gateway timeout (the reference's 30 s is a ceiling, not a target).
constexpr auto issuer_call_timeout = std::chrono::seconds{12};
/// How often the poller looks for due device flows; each flow keeps its own interval.
constexpr auto poll_tick = std::chrono::seconds{1};

} // namespace

std::unique_ptr<onboarding_runtime> start_onboarding(
  route_table& routes, caf::actor_system& system, persistence::database& db,
  domain::service_context& services, std::shared_ptr<domain::login_throttle> throttle,
  std::shared_ptr<actors::upstream_client> upstream, std::string issuer, stop_stack& running) {
  auto pool = actors::spawn_db_pool(system, db, onboarding_workers);
  running.started("onboarding_pool",
                  [pool] { caf::anon_send_exit(pool, caf::exit_reason::user_shutdown); });
  auto runtime = std::make_unique<onboarding_runtime>(onboarding_runtime{
    admin_runtime{system, pool, services, std::move(throttle)},
    domain::onboarding_options{std::move(issuer)},
    std::make_shared<actors::oauth_http_transport>(std::move(upstream), issuer_call_timeout)});
  add_onboarding_routes(routes, *runtime);
  add_invite_page_routes(routes, *runtime);
  auto poller = actors::spawn_device_poller(
    system, pool,
    [rt = runtime.get()] {
      domain::onboarding_service flows{rt->admin.services, rt->options, *rt->transport};
      return flows.poll_due();
    },
    poll_tick);
  running.started("device_poller",
                  [poller] { caf::anon_send_exit(poller, caf::exit_reason::user_shutdown); });
  return runtime;
}

} // namespace cxp::edge
