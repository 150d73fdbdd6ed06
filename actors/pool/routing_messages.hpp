#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/settings/settings_cache.hpp"
#include "actors/type_ids.hpp"
#include "common/errc.hpp"
#include "common/secret.hpp"
#include "domain/routing/key_budget.hpp"
#include "domain/routing/pooled_quota.hpp"
#include "domain/routing/quota.hpp"
#include "domain/routing/routing_record.hpp"
#include "domain/turn/attempt_outcome.hpp"

namespace cxp::actors {

// Node-local messages of the request path: leases carry decrypted tokens, so none of these may
// ever cross a node boundary (they are deliberately not announced for serialization).

/// What a route does upstream; circuits are kept per route class.
enum class route_class : uint8_t { responses, compact };

std::string_view to_string(route_class route);

std::optional<route_class> parse_route_class(std::string_view text);

/// A circuit (account, model, route) some node opened: every node keeps it open until `until`.
struct open_circuit {
  std::string model;
  route_class route = route_class::responses;
  time_point until{};
};

/// Credentials an account actor hands the pools it serves while they are usable, so a lease
/// needs no round trip to the account. Decrypted and in memory only; never part of a pool_view.
struct ready_credentials {
  std::string chatgpt_account_id;
  secret<std::string> access_token;
  int64_t generation = 0;
  std::optional<time_point> usable_until; ///< token expiry minus the refresh margin
};

/// What decides whether and how pools route to an account. The account actor keeps it as part of
/// its state and publishes it in every snapshot as it is.
struct account_routing {
  std::string status;    ///< the stored status, or reauth_required after a failed refresh
  std::string plan_type; ///< from the token claims or the latest usage evidence
  std::vector<domain::quota_window> quota;
  std::optional<time_point> exhausted_until; ///< from a usage_limit_reached answer (any node)
  std::optional<time_point> demoted_until;   ///< a failed attempt on any node demoted it
  std::vector<open_circuit> circuits;        ///< circuits of this account open on any node
  /// The account's upstream catalog entries; null or empty until the first sync (then any model
  /// routes).
  std::shared_ptr<const std::vector<nlohmann::json>> models;
  /// No catalog yet and its first one is on the way (a sync runs, or the account is still
  /// loading): the pool's `/models` view waits for it, briefly, instead of answering without it.
  bool catalog_pending = false;

  bool routable() const { return status == "active" || status == "refreshing"; }
};

/// What an account actor publishes to the pools it serves.
struct account_snapshot : account_routing {
  std::string account_id;
  /// Null while credentials load, a refresh runs or the account cannot serve: a lease then
  /// goes through the account actor, which waits for them.
  std::shared_ptr<const ready_credentials> credentials;
};

/// An account as the pooled quota view reads it.
domain::quota_member quota_member_of(const account_snapshot& account);

/// What a turn needs to tell its client the pool's capacity (README "Pooled quota"): the pool's
/// accounts as the pooled view reads them, as the pool saw them when it answered (immutable,
/// shared by every lease of that moment), and the calling key's own token-cap windows.
struct quota_evidence {
  std::shared_ptr<const std::vector<domain::quota_member>> members;
  std::vector<domain::key_window> key_windows;
};

/// The pooled view of `evidence` at `now`, with what the answer of `account_id` said
/// (`observed` windows, a usage limit until `exhausted_until`) counted in, tightened by the key.
domain::pooled_quota pooled_quota_of(const quota_evidence& evidence, time_point now,
                                     const std::string& account_id = {},
                                     const std::vector<domain::quota_window>& observed = {},
                                     std::optional<time_point> exhausted_until = std::nullopt);

/// A request for the next account to try.
struct lease_request {
  std::string pool_id;
  std::string request_id;
  std::string model;
  route_class route = route_class::responses;
  std::string session_key;        ///< hashed session key; empty when the client sent none
  std::string seed;               ///< rendezvous seed: prompt-cache key, session or request id
  std::vector<std::string> tried; ///< accounts already tried for this request
  std::string api_key_id;         ///< the key whose caps apply (checked on the first try only)
  domain::key_caps caps;
  /// The session's account as recorded outside this pool (its cluster lease after a takeover):
  /// the pin to honour when the pool has none for the session.
  std::string account_hint;
  /// The session's pin stored by any node (`http_session_pins`) was looked up already.
  bool shared_pin_checked = false;
  /// What the pool decided for this lease so far (a failed checkout, then the next choice):
  /// filled by the pool, returned with the grant or the denial.
  domain::routing_decision routing{};
};

struct lease_grant;
struct attempt_report;

/// What the holder of a lease may ask of the granting account actor: a token newer than the
/// generation a 401 was answered with (a subset of `account_actor`).
using account_refresh_actor =
  caf::typed_actor<caf::replies_to<refresh_atom, int64_t>::with<lease_grant>>;

/// Where the holder of a lease reports how its attempt ended (a subset of `pool_actor`).
using attempt_sink_actor = caf::typed_actor<caf::reacts_to<attempt_report>>;

/// A granted account for one attempt. The token is decrypted and lives in memory only.
struct lease_grant {
  std::string account_id;
  std::string chatgpt_account_id;
  secret<std::string> access_token;
  int64_t token_generation = 0;       ///< bumped by each refresh; a 401 names the one it used
  account_refresh_actor account;      ///< for a refresh after a 401
  attempt_sink_actor pool;            ///< receives the attempt report
  bool pinned = false;                ///< the session is pinned here: never fail over
  bool probe = false;                 ///< the attempt is a half-open circuit probe
  int32_t ring_size = 3;              ///< attempts this request may make in total
  settings_snapshot settings;         ///< the settings the request keeps using
  quota_evidence quota;               ///< for the pooled quota the client is shown
  domain::routing_decision routing{}; ///< how the pool chose this account (request metadata)
};

/// Why no account was granted: `usage_limit_reached` (every candidate exhausted, with the
/// earliest reset), `pinned_continuation_unavailable`, `no_eligible_account`, `reauth_required`
/// (refresh failed on the chosen account), or `pool_unavailable`.
struct lease_denial {
  errc code = errc::no_eligible_account;
  std::string message;
  std::optional<int64_t> resets_at; ///< unix seconds
  std::string plan_type;
  quota_evidence quota; ///< set for usage and key-cap limits: the 429's pooled quota headers
  domain::routing_decision routing{}; ///< why no account was chosen (empty for key caps)
};

struct lease_reply {
  std::optional<lease_grant> grant;
  lease_denial denial;
};

/// How an attempt ended, for circuits, demotions and quota: the turn policy's outcome.
using attempt_result = domain::attempt_outcome;

/// Sent to the pool that granted the lease when the attempt ends.
struct attempt_report {
  std::string account_id;
  std::string model;
  route_class route = route_class::responses;
  std::string session_key;
  attempt_result result = attempt_result::succeeded;
  bool probe = false;
  std::vector<domain::quota_window> quota;   ///< windows observed in this answer
  std::optional<time_point> exhausted_until; ///< from a usage-limit body
  std::optional<std::string> plan_type;
  std::string api_key_id;
  int64_t tokens = 0; ///< input + output tokens of the answer, for the key's token caps
};

/// Quota and health evidence forwarded to an account actor: by a pool of this node (recorded
/// in the database for the other nodes), or read back from the database (`shared`).
struct quota_observation {
  std::vector<domain::quota_window> quota;
  std::optional<time_point> exhausted_until;
  std::optional<std::string> plan_type;
  std::optional<time_point> demoted_until;
  std::vector<open_circuit> circuits; ///< circuits that opened
  bool shared = false;
};

/// Receives an account actor's `account_snapshot` on every change (a subset of `pool_actor`).
using account_subscriber_actor = caf::typed_actor<caf::reacts_to<account_snapshot>>;

/// Where a turn takes its leases: the runtime directory (a subset of `runtime_directory_actor`).
using lease_source_actor = caf::typed_actor<caf::replies_to<lease_request>::with<lease_reply>>;

/// The pool actor of `pool_id`, as a lease source: callers that lease often keep it and skip
/// the directory's hop (asked of the runtime directory).
struct pool_handle_request {
  std::string pool_id;
};

/// The pool's catalog and usage, for `/models` and the usage routes. With `api_key_id`, the
/// view also carries that key's token-cap windows (`caps`), as this node counts them.
struct pool_view_request {
  std::string pool_id;
  std::string api_key_id;
  domain::key_caps caps;
};

struct pool_view {
  std::vector<account_snapshot> accounts;
  std::vector<domain::key_window> key_windows;
};

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::account_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::lease_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::lease_grant)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::lease_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::attempt_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::quota_observation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::pool_view_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::pool_handle_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::pool_view)
