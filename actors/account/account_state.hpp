#pragma once

// The account actor's state and the functions its two translation units share:
// account_actor.cpp (snapshots, leases, catalog, quota, the behavior) and account_refresh.cpp
// (the token lifecycle: fenced refresh, replicas waiting for the owner). Internal to
// actors/account.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/account/account_actor.hpp"
#include "actors/pool/routing_messages.hpp"
#include "domain/accounts/account_service.hpp"

namespace cxp::actors::account_detail {

using nlohmann::json;

inline constexpr auto db_timeout = std::chrono::seconds{15};
inline constexpr auto expiry_margin = std::chrono::seconds{30};
inline constexpr auto quota_flush_delay = std::chrono::seconds{1};
/// How often every node re-reads the catalog and quota evidence the jobs stored.
inline constexpr auto stored_state_interval = std::chrono::minutes{5};
/// How long a new account's pools may wait for its first catalog (a replica never syncs one,
/// and a sync can fail): after that it counts as having none.
inline constexpr auto first_catalog_wait = std::chrono::seconds{5};
inline constexpr int refresh_max_tries = 3;
inline constexpr auto refresh_first_backoff = std::chrono::milliseconds{500};
/// A refresh claim outlives the refresh call's own timeout, so it never lapses mid-call.
inline constexpr auto refresh_claim_ttl = std::chrono::seconds{90};
/// Refreshes start after a random delay up to this, and a claim refused for the OAuth client's
/// limit retries after up to twice this: sibling refreshes do not burst.
inline constexpr int refresh_jitter_ms = 250;
/// How often a node waiting for someone else's refresh looks for the new generation.
inline constexpr auto generation_poll_interval = std::chrono::milliseconds{500};
inline constexpr auto persist_retry_interval = std::chrono::seconds{1};

enum class fetch_kind : uint8_t { refresh, models, usage };

/// The answer of an upstream call made by the actor, delivered back to it as a message.
struct fetched {
  fetch_kind kind = fetch_kind::refresh;
  std::optional<upstream_failure> failure;
  upstream_reply reply;
};

struct loaded_account {
  domain::account_service::credentials credentials;
  std::vector<persistence::quota_window_row> quota;
  std::vector<persistence::account_model_row> models;
};

/// Refreshed tokens waiting to be persisted (and then used).
struct pending_tokens {
  secret<std::string> access_token;
  secret<std::string> refresh_token;
  std::optional<time_point> expires_at;
};

/// The jittered moment to claim the refresh has come.
struct claim_due {};

/// Time to try storing refreshed tokens again (the database failed the last try).
struct persist_due {};

/// The account's first catalog has had its time: the pools stop waiting for it.
struct catalog_due {};

} // namespace cxp::actors::account_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::account_detail::fetched)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::account_detail::claim_due)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::account_detail::persist_due)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::account_detail::catalog_due)

namespace cxp::actors::account_detail {

/// The account's state: what it publishes to its pools (`account_routing`) and the rest.
struct account_state : account_routing {
  persistence::routing_account_row row;
  std::optional<domain::account_service::credentials> credentials;
  std::optional<time_point> expires_at;
  int64_t generation = 0; ///< the stored token generation the credentials belong to
  bool owner = false;     ///< this node owns the account (the custodian says so)
  bool loading = false;
  bool refreshing = false;
  bool proactive = false; ///< the running refresh is ahead of expiry: the old token still serves
  bool awaiting_generation = false;
  std::optional<int64_t> requested_generation; ///< asked the owner to refresh this one
  std::optional<int64_t> rejected_generation;  ///< the upstream refused this one's access token
  int refresh_tries = 0;
  std::optional<pending_tokens> unpersisted;
  /// Checkouts and refreshes waiting for credentials.
  std::vector<caf::response_promise> waiting;
  bool quota_dirty = false;
  bool flush_scheduled = false;
  bool publish_pending = false; ///< quota changed since the last snapshot went out
  bool models_synced = false;
  std::set<account_subscriber_actor> pools;
  static inline const char* name = "account_actor";
};

/// The account actor as it addresses itself: its interface plus its timers (`refresh_atom` retries
/// a refresh, `flush_atom` persists quota, `tick_atom` re-reads the stored catalog and quota
/// evidence, `generation_atom` polls for a generation another node stores, `claim_due`,
/// `persist_due`, `catalog_due`) and its upstream answers (`fetched`).
using account_impl =
  account_actor::extend<caf::reacts_to<refresh_atom>, caf::reacts_to<flush_atom>,
                        caf::reacts_to<tick_atom>, caf::reacts_to<generation_atom>,
                        caf::reacts_to<claim_due>, caf::reacts_to<persist_due>,
                        caf::reacts_to<catalog_due>, caf::reacts_to<fetched>>;

using account_self = caf::stateful_actor<account_state, account_impl::base>;

// account_actor.cpp
time_point now(const runtime_deps& deps);
void publish(account_self* self);
lease_grant grant_of(account_self* self);
void fail_waiting(account_self* self, const caf::error& error);
void grant_waiting(account_self* self);
void sync_catalog(account_self* self, const runtime_deps& deps);
void probe_usage(account_self* self, const runtime_deps& deps);
void fetch_upstream(account_self* self, const runtime_deps& deps, fetch_kind kind,
                    upstream_request request);
void load(account_self* self, const runtime_deps& deps);

// account_refresh.cpp
bool token_expired(account_self* self, const runtime_deps& deps);
void start_refresh(account_self* self, bool proactive);
void claim_refresh(account_self* self, const runtime_deps& deps);
void on_refresh_answer(account_self* self, const runtime_deps& deps, const fetched& answer);
/// Stores the refreshed tokens still held in memory (`unpersisted`).
void persist_tokens(account_self* self, const runtime_deps& deps);
/// What a node does once its credentials are loaded or its token is due: the owner refreshes,
/// a replica with waiters asks the owner; a usable token serves the waiters.
void after_credentials(account_self* self, const runtime_deps& deps);
caf::result<lease_grant> refresh_past(account_self* self, const runtime_deps& deps,
                                      int64_t generation);

} // namespace cxp::actors::account_detail
