#pragma once

#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/account/account_actor.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/settings/settings_cache.hpp"
#include "actors/type_ids.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::actors {

/// The accounts of a pool, by id, as the directory wires them.
using account_handles = std::map<std::string, account_actor>;

/// The pool actor's interface (see `spawn_pool_actor`). It extends the narrower handles other
/// actors hold of it: `attempt_sink_actor` (a lease's holder) and `account_subscriber_actor` (its
/// accounts).
using pool_actor =
  caf::typed_actor<caf::replies_to<lease_request>::with<lease_reply>,
                   caf::reacts_to<attempt_report>, caf::reacts_to<account_snapshot>,
                   caf::reacts_to<settings_snapshot>,
                   caf::reacts_to<put_atom, persistence::routing_pool_row, account_handles>,
                   caf::replies_to<pool_view_request>::with<pool_view>>;

/// One pool: the selection over its accounts' published snapshots. Messages:
/// - `lease_request` → `lease_reply`: the key's caps (requests per minute, tokens per day and
///   week; `api_key_policy_limit_exceeded`), hard eligibility (status, model, circuit, quota), the
///   pool's strategy, session pinning, demotions and ring size (see `select_accounts`), then a
///   circuit slot and the lease: from the account's published credentials while usable, else
///   a checkout on the account actor. A session pinned to an ineligible
///   account is refused (`pinned_continuation_unavailable`), never moved; when quota exhaustion
///   is what excludes every account the denial is `usage_limit_reached` with the earliest reset.
/// - `attempt_report`: circuit success/failure (per account, model and route class), 60 s
///   demotion after a failure, last success, session pinning, quota forwarding; ends the lease.
/// - `account_snapshot` from the subscribed account actors; `settings_snapshot`;
///   `put_atom, routing_pool_row, account_handles` when the stored pool changed;
///   `pool_view_request` → `pool_view`.
pool_actor spawn_pool_actor(caf::actor_system& system, const runtime_deps& deps,
                            persistence::routing_pool_row config, account_handles accounts);

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::routing_pool_row)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::account_handles)
