#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/account/account_actor.hpp"
#include "actors/notices/node_notices.hpp"
#include "actors/pool/pool_actor.hpp"
#include "actors/type_ids.hpp"

namespace cxp::actors {

struct custody_options {
  std::string node_id;
  bool may_own = true; ///< this node's role may own accounts (role_may_own_accounts)
  /// An ownership lease lasts this long; it is renewed every third of it, and a node whose
  /// heartbeat is older than this is no candidate for ownership.
  std::chrono::milliseconds lease_ttl{15'000};
  /// How often evidence other nodes recorded is read: new token generations, exhaustion and
  /// demotions, refreshes replicas asked this node for.
  std::chrono::milliseconds evidence_poll{500};
};

/// What `/readyz` shows of account custody.
struct custody_status {
  int64_t owner_nodes = 0; ///< live nodes that may own accounts (0 is an alarm)
  int64_t owned = 0;       ///< accounts this node owns
  int64_t accounts = 0;    ///< accounts this node routes over
  bool may_own = false;
  bool settled = false; ///< at least one custody round completed
  /// No node may own accounts, for longer than a lease TTL since this node started (nodes
  /// started together get that long to register).
  bool alarm = false;
};

/// The custodian's interface (see `spawn_account_custodian`): the runtime directory's account
/// actors, the owners' token announcements, the readiness detail and the drain's hand-off.
using account_custodian_actor = caf::typed_actor<
  caf::reacts_to<put_atom, account_handles>, caf::reacts_to<account_tokens_changed>,
  caf::replies_to<get_atom>::with<custody_status>, caf::replies_to<hand_off_atom>::with<int64_t>>;

/// The node's account custodian: decides which accounts this node owns and tells its account
/// actors. Every `lease_ttl / 3` it reads the live nodes of `cluster_nodes`, computes the
/// rendezvous owner of every account among those that may own, and settles its leases in
/// `account_leases` (renew or take what it should own, release the rest); each account actor
/// then gets `ownership_atom, bool`. Every `evidence_poll` it passes on what other nodes
/// recorded: `generation_atom, int64_t` (tokens stored by the owner), a `shared`
/// `quota_observation` (exhaustion, demotion, open circuits), `refresh_atom, int64_t` for
/// refreshes replicas asked of an account it owns and `refresh_ahead_atom, int64_t` for those
/// the token refresh sweep asked. Messages:
/// - `put_atom, account_handles` from the runtime directory whenever its accounts change;
/// - `account_tokens_changed` (the node's notice board; an owner on this node or, through the
///   cluster, on a peer stored a new generation) → `generation_atom` to that account at once;
/// - `get_atom` → `custody_status`;
/// - `hand_off_atom` → `int64_t`: expires this node's leases now (drain) and stops owning.
/// With no node able to own accounts (after a lease TTL of grace from its start) it logs an
/// error, the metric `codex_pooler_cluster_account_owner_nodes` shows 0 and `custody_status`
/// raises `alarm`.
account_custodian_actor spawn_account_custodian(caf::actor_system& system, const runtime_deps& deps,
                                                custody_options options);

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::custody_status)
