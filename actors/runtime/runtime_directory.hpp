#pragma once

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/account/account_actor.hpp"
#include "actors/account/account_custody.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/settings/settings_cache.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

/// The runtime directory's interface (see `spawn_runtime_directory`).
using runtime_directory_actor =
  caf::typed_actor<caf::replies_to<lease_request>::with<lease_reply>,
                   caf::replies_to<pool_view_request>::with<pool_view>,
                   caf::replies_to<pool_handle_request>::with<lease_source_actor>,
                   caf::replies_to<reload_atom>::with<bool>>;

/// The node's routing topology: one account actor per account assigned to a pool and one pool
/// actor per pool, spawned from the database and kept in step with it by a reload every
/// `reload_interval` (a changed account row is reloaded by its actor; settings snapshots are
/// pushed to the pools). Messages:
/// - `lease_request` and `pool_view_request` are delegated to the pool actor; an unknown pool
///   triggers a reload first and is then answered with a `pool_unavailable` denial (or error);
/// - `pool_handle_request` → the pool actor as a `lease_source_actor`, or `not_found` for a pool
///   not loaded (no reload: the caller leases through the directory meanwhile);
/// - `reload_atom` → `bool` reloads now and answers when done.
/// After every reload the account custodian (`spawn_account_custodian`) gets the account actors
/// (`put_atom, account_handles`), so it can tell each whether this node owns it.
runtime_directory_actor spawn_runtime_directory(caf::actor_system& system, const runtime_deps& deps,
                                                settings_cache_actor settings,
                                                account_custodian_actor custodian,
                                                std::chrono::milliseconds reload_interval);

} // namespace cxp::actors
