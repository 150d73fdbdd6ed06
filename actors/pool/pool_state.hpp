#pragma once

// The pool actor's state and the helpers its sources share: not an interface, only
// actors/pool/*.cpp include it. pool_routing.cpp ranks accounts and records why; pool_pins.cpp
// keeps session pins and key budgets; pool_actor.cpp is the actor.

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/pool/pool_actor.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/session/session_actor.hpp"
#include "actors/type_ids.hpp"
#include "domain/routing/circuit_breaker.hpp"
#include "domain/routing/selection_policy.hpp"

namespace cxp::actors::pool_detail {

constexpr auto db_timeout = std::chrono::seconds{15};

/// A pool view held until its accounts' first catalogs arrive.
struct held_view {
  caf::typed_response_promise<pool_view> promise;
  pool_view_request request;
};

/// The longest a held view waits: it is answered with the catalogs known by then.
struct view_due {
  uint64_t serial = 0;
};

struct pinned_session {
  session_actor actor;
  std::string account_id;
  time_point shared_until{}; ///< the pin stored for the other nodes lasts until then
};

struct pool_state {
  persistence::routing_pool_row config;
  domain::routing_strategy strategy = domain::routing_strategy::bridge_ring;
  account_handles accounts;
  std::map<std::string, account_snapshot> snapshots;
  /// The snapshots as the pooled quota view reads them; rebuilt on the first lease after one
  /// changed (null until then), and shared by every lease of that moment.
  std::shared_ptr<const std::vector<domain::quota_member>> quota_members;
  std::map<std::string, domain::circuit_breaker> circuits; ///< "<account>|<model>|<route>"
  std::map<std::string, time_point> demoted_until;
  std::map<std::string, time_point> last_success;
  /// Session key → its session actor and the account this pool pinned it to. The pool answers
  /// lookups from here; the actor keeps the TTL (its exit drops the entry).
  std::unordered_map<std::string, pinned_session> sessions;
  /// Consumption of this pool's keys that have caps (per node).
  std::unordered_map<std::string, domain::key_budget> budgets;
  /// Leases of keys whose token usage so far is being read (see seed_budget).
  std::unordered_map<std::string, std::vector<std::pair<caf::response_promise, lease_request>>>
    awaiting_seed;
  /// `/models` views asked while an account's first catalog was on the way, by serial.
  std::map<uint64_t, held_view> held_views;
  uint64_t last_view_serial = 0;
  settings_snapshot settings = std::make_shared<const domain::instance_settings>();
  const cxp::clock* clock = nullptr;
  gateway_metrics* metrics = nullptr;
  static inline const char* name = "pool_actor";
};

} // namespace cxp::actors::pool_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::pool_detail::view_due)

namespace cxp::actors::pool_detail {

/// The pool as it addresses itself: `tick_atom` is its capacity-gauge timer, `view_due` ends the
/// wait of a held view.
using pool_impl = pool_actor::extend<caf::reacts_to<tick_atom>, caf::reacts_to<view_due>>;

using pool_self = caf::stateful_actor<pool_state, pool_impl::base>;

// pool_routing.cpp

std::string circuit_key(const std::string& account, const std::string& model, route_class route);
/// The circuit of `key` ("<account>|<model>|<route>"), created closed on first use.
domain::circuit_breaker& circuit_of(pool_self* self, const std::string& key);
lease_reply deny(errc code, std::string message, std::optional<int64_t> resets_at = std::nullopt,
                 std::string plan_type = {}, quota_evidence quota = {});
/// The pool's accounts and the key's cap windows, for the pooled quota a turn's client is shown.
quota_evidence quota_evidence_for(pool_self* self, const lease_request& request);
/// The denial when nothing is eligible: usage_limit_reached with the earliest reset when quota
/// exhaustion excluded someone and nothing else is left, else no_eligible_account.
lease_reply denial_for(pool_self* self, const domain::selection& selected,
                       const lease_request& request, time_point now);
/// The pool's accounts not yet tried by `request`, as the selection policy sees them.
std::vector<domain::routing_candidate> candidates_of(pool_self* self, const lease_request& request,
                                                     time_point now);
/// Why an account the selection excluded was left out; an inactive one says its status.
std::string skip_reason(pool_self* self, const domain::exclusion& excluded);
/// Records a selection in `decision`: the ring in rank order (circuits found open before
/// `chosen`, then `chosen`, then the ones ranked after it), the eligible ones beyond the ring,
/// then the first `excluded_count` exclusions.
void record_selection(pool_self* self, domain::routing_decision& decision,
                      const domain::selection& selected, size_t excluded_count,
                      const std::vector<domain::routing_candidate>& candidates,
                      const std::string& chosen, time_point now);
/// Records a pinned session's decision: the pinned account as `outcome` (`reason`), every other
/// candidate skipped because the session is pinned elsewhere.
void record_pinned(domain::routing_decision& decision,
                   const std::vector<domain::routing_candidate>& candidates,
                   const std::string& pinned, std::string outcome, std::string reason);
/// A denial carrying the decision that led to it.
lease_reply with_routing(lease_reply reply, domain::routing_decision routing);

// pool_pins.cpp

/// The key's caps on a new request: a denial when one is reached. The first request of a key
/// with token caps waits until its usage so far is read.
std::optional<caf::result<lease_reply>> over_budget(pool_self* self, const runtime_deps& deps,
                                                    lease_request& request);
/// Pins the session here and, so a request of the same conversation on another node stays on
/// the account, in `http_session_pins` (written when the pin is new or moved, and again once
/// half its TTL passed).
void pin_session(pool_self* self, const runtime_deps& deps, const std::string& session_key,
                 const std::string& account_id);
/// A session this node has not pinned may be pinned by another node: looks it up once, then
/// routes the request with that account as its pin.
caf::result<lease_reply> with_shared_pin(pool_self* self, const runtime_deps& deps,
                                         lease_request request);

} // namespace cxp::actors::pool_detail
