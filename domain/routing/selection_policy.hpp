#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "domain/routing/quota.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::domain {

enum class routing_strategy {
  bridge_ring,
  deterministic_rotation,
  least_recent_success,
  quota_first
};

/// Parses the stored strategy name; nullopt for an unknown one.
std::optional<routing_strategy> parse_routing_strategy(std::string_view name);

/// What the pool knows about one account when it picks: the published snapshot of its actor.
struct routing_candidate {
  std::string account_id;
  bool active = true;         ///< status active and not reauth_required/paused/disabled
  bool supports_model = true; ///< the requested model is in the account's catalog
  bool circuit_closed = true; ///< its circuit admits an attempt
  std::vector<quota_window> quota;
  std::optional<time_point> last_success_at;
  std::optional<time_point> demoted_until;
};

/// Why a candidate was left out, for request metadata and tests.
struct exclusion {
  std::string account_id;
  std::string reason; ///< inactive | model_unsupported | circuit_open | quota_exhausted
};

struct selection {
  std::vector<std::string> ordered; ///< at most ring_size accounts, best first
  std::vector<exclusion> excluded;
  std::vector<std::string> beyond_ring; ///< eligible, ranked after the first ring_size
};

struct selection_request {
  routing_strategy strategy = routing_strategy::bridge_ring;
  std::string seed;                          ///< session key, prompt-cache key or request id
  std::optional<std::string> pinned_account; ///< a session's account goes first when eligible
  size_t ring_size = 3;
};

/// The routing decision as a pure function: hard eligibility (status, model, circuit, quota),
/// then the pool's strategy, then the pinned account to the front and demoted ones to the back,
/// then the first `ring_size`. Deterministic for equal inputs.
selection select_accounts(const std::vector<routing_candidate>& candidates,
                          const selection_request& request, time_point now);

/// The rendezvous (highest-random-weight) score of `account_id` for `seed`: SHA-256 of
/// "<seed>:<account_id>", whose bytes compare as a big-endian number.
persistence::sha256_digest rendezvous_score(std::string_view seed, std::string_view account_id);

} // namespace cxp::domain
