#pragma once

#include <chrono>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

/// The device-code poller's interface: it only hears its own ticks.
using device_poller_actor = caf::typed_actor<caf::reacts_to<tick_atom>>;

/// One pass over the due device flows (claims and polls them; blocking). Runs on a worker of
/// `workers`, never in the poller itself.
using poll_pass = std::function<size_t()>;

/// Every `interval`, hands one `pass` to `workers` (the onboarding pool, whose detached workers
/// may block on the issuer) and waits for it before the next tick, so passes never overlap on a
/// node; the database claim keeps two nodes off the same flow. Spawned on nodes that serve
/// traffic, where flows start.
device_poller_actor spawn_device_poller(caf::actor_system& system, db_pool_actor workers,
                                        poll_pass pass, std::chrono::milliseconds interval);

} // namespace cxp::actors
