#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/type_ids.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "domain/admin_context.hpp"
#include "persistence/routing/routing_repository.hpp"

namespace cxp::actors {

/// What the runtime actors share: immutable wiring, thread-safe services.
struct runtime_deps {
  db_pool_actor db_pool;
  std::shared_ptr<upstream_client> upstream;
  domain::service_context& services; ///< keyrings and the database for account_service
  std::string upstream_base_url;     ///< e.g. https://chatgpt.com/backend-api
  std::string oauth_token_url;
  gateway_metrics& metrics;
  std::string node_id; ///< this process's id in `cluster_nodes` (refresh claims name it)
  /// Refresh claims of one OAuth client live at once across the cluster.
  int refresh_client_limit = 3;
};

/// The account actor's interface: what the pools, the leases' holders, the custodian and the
/// runtime directory send it (see `spawn_account_actor`). Its timers and upstream answers are
/// private to the implementation (account_state.hpp).
using account_actor =
  caf::typed_actor<caf::replies_to<checkout_atom>::with<lease_grant>,
                   caf::replies_to<refresh_atom, int64_t>::with<lease_grant>,
                   caf::reacts_to<refresh_ahead_atom, int64_t>,
                   caf::reacts_to<ownership_atom, bool>, caf::reacts_to<generation_atom, int64_t>,
                   caf::reacts_to<quota_observation>,
                   caf::reacts_to<subscribe_atom, account_subscriber_actor>,
                   caf::reacts_to<unsubscribe_atom, account_subscriber_actor>,
                   caf::reacts_to<reload_atom, persistence::routing_account_row>>;

/// One upstream account on this node: its decrypted credentials (memory only), quota windows,
/// catalog and token lineage. Across the cluster exactly one node *owns* the account (the
/// custodian tells it: `ownership_atom, bool`); only the owner refreshes tokens, probes
/// `/wham/usage` and syncs the catalog. Every other node keeps a replica that leases from the
/// tokens the owner stored and reloads them when the stored generation moves on. Messages:
/// - `checkout_atom` → `lease_grant` (account fields and token only); waits while credentials
///   load or a refresh runs. With an expired token the owner refreshes first; a replica asks
///   the owner (through `account_leases`) and waits for the new generation.
/// - `refresh_atom, int64_t generation` → `lease_grant` with a token newer than `generation`
///   (the one a 401 was answered with). Single flight: concurrent callers share one refresh.
///   The refresh is fenced: the owner first claims the generation in the database (one claim
///   per account, a few per OAuth client cluster-wide, with jitter), and the rotated tokens are
///   stored only while the stored generation is still the refreshed one, before anyone gets
///   them. A revoked refresh token (`invalid_grant`, `refresh_token_reused`, …) moves the account
///   to `reauth_required` only while the database holds no newer generation (else it reloads);
///   transient failures retry with backoff.
/// - `refresh_ahead_atom, int64_t generation` (the token refresh sweep, through the custodian):
///   the owner refreshes that generation while it still serves; a stale generation is ignored.
/// - `generation_atom, int64_t` (the custodian saw a stored generation) reloads when newer.
/// - The owner announces each stored generation (`account_tokens_changed`, broadcast to the
///   peers when clustered).
/// - `quota_observation` merges evidence and republishes; windows are persisted debounced;
///   exhaustion and demotion seen here are recorded for the other nodes at once (`account_health`).
/// - `subscribe_atom`/`unsubscribe_atom, account_subscriber_actor` manage the pools that receive
///   `account_snapshot` on every change; while the token is usable the snapshot carries it
///   (`ready_credentials`), so pools grant leases without asking.
/// - `reload_atom, persistence::routing_account_row` after the stored row changed.
/// The owner syncs the upstream model catalog and probes `/wham/usage` once when it takes the
/// account; after that the catalog sync and quota reconciliation jobs keep both fresh in the
/// database, and every node re-reads what they stored every `stored_state_interval`.
account_actor spawn_account_actor(caf::actor_system& system, const runtime_deps& deps,
                                  persistence::routing_account_row row);

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::routing_account_row)
