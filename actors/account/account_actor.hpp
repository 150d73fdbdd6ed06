#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/admin/admin_context.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::actors {

/// What the runtime actors share: immutable wiring, thread-safe services.
struct runtime_deps {
  caf::actor db_pool;
  std::shared_ptr<upstream_client> upstream;
  admin::service_context& services; ///< keyrings and the database for account_service
  std::string upstream_base_url;    ///< e.g. https://chatgpt.com/backend-api
  std::string oauth_token_url;
  gateway_metrics& metrics;
};

/// One upstream account: its decrypted credentials (memory only), quota windows, catalog and
/// token lineage. Messages:
/// - `checkout_atom` → `lease_grant` (account fields and token only); waits while credentials
///   load or a refresh runs; refreshes first when the token has expired.
/// - `refresh_atom, int64_t generation` → `lease_grant` with a token newer than `generation`
///   (the one a 401 was answered with). Single flight: concurrent callers share one refresh,
///   and the rotated tokens are persisted before anyone gets them. A revoked refresh token
///   (`invalid_grant`, `refresh_token_reused`, …) moves the account to `reauth_required`;
///   transient failures retry with backoff.
/// - `quota_observation` merges evidence and republishes; windows are persisted debounced.
/// - `subscribe_atom`/`unsubscribe_atom, caf::actor` manage the pools that receive
///   `account_snapshot` on every change; while the token is usable the snapshot carries it
///   (`ready_credentials`), so pools grant leases without asking.
/// - `reload_atom, persistence::routing_account_row` after the stored row changed.
/// On start and hourly it syncs the upstream model catalog; on start it probes `/wham/usage` to
/// prime quota evidence.
caf::actor spawn_account_actor(caf::actor_system& system, const runtime_deps& deps,
                               persistence::routing_account_row row);

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::routing_account_row)
