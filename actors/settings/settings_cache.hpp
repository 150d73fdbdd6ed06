#pragma once

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "domain/settings/settings_registry.hpp"

namespace cxp::actors {

/// An immutable settings snapshot shared by every request that started while it was current.
using settings_snapshot = std::shared_ptr<const domain::instance_settings>;

/// The node's cache of instance settings.
/// - `get_atom` answers the current snapshot (defaults until the first load completes);
/// - `reload_atom` reloads from the database now (sent after every local change);
/// - it polls the stored revision every `poll_interval` and reloads when another node changed it.
using settings_cache_actor =
  caf::typed_actor<caf::replies_to<get_atom>::with<settings_snapshot>, caf::reacts_to<reload_atom>,
                   caf::reacts_to<tick_atom>>;

/// Spawns the cache; `db_pool` is the handle from `spawn_db_pool`.
settings_cache_actor spawn_settings_cache(caf::actor_system& system, db_pool_actor db_pool,
                                          std::chrono::milliseconds poll_interval);

} // namespace cxp::actors

// Snapshots are node-local: every node builds its own from the database.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::settings_snapshot)
