#include "domain/routing/selection_policy.hpp"

#include <algorithm>

namespace cxp::domain {

namespace {

struct ranked {
  const routing_candidate* candidate;
  persistence::sha256_digest score;
};

/// The first 60 bits of the seed's rotation score.
uint64_t seed_hash(std::string_view seed) {
  const auto digest = rendezvous_score(seed, "rotation");
  uint64_t leading = 0;
  for (size_t i = 0; i < sizeof leading; ++i) {
    leading = (leading << 8) | digest[i];
  }
  return leading >> 4;
}

bool is_demoted(const routing_candidate& candidate, time_point now) {
  return candidate.demoted_until && *candidate.demoted_until > now;
}

} // namespace

std::optional<routing_strategy> parse_routing_strategy(std::string_view name) {
  if (name == "bridge_ring") {
    return routing_strategy::bridge_ring;
  }
  if (name == "deterministic_rotation") {
    return routing_strategy::deterministic_rotation;
  }
  if (name == "least_recent_success") {
    return routing_strategy::least_recent_success;
  }
  if (name == "quota_first") {
    return routing_strategy::quota_first;
  }
  return std::nullopt;
}

persistence::sha256_digest rendezvous_score(std::string_view seed, std::string_view account_id) {
  std::string input;
  input.reserve(seed.size() + account_id.size() + 1);
  input.append(seed).append(":").append(account_id);
  return persistence::sha256(input);
}

selection select_accounts(const std::vector<routing_candidate>& candidates,
                          const selection_request& request, time_point now) {
  selection out;
  std::vector<ranked> eligible;
  for (const auto& candidate : candidates) {
    const char* reason = !candidate.active                    ? "inactive"
                         : !candidate.supports_model          ? "model_unsupported"
                         : !candidate.circuit_closed          ? "circuit_open"
                         : is_exhausted(candidate.quota, now) ? "quota_exhausted"
                                                              : nullptr;
    if (reason != nullptr) {
      out.excluded.push_back({candidate.account_id, reason});
      continue;
    }
    eligible.push_back({&candidate, rendezvous_score(request.seed, candidate.account_id)});
  }
  auto by_score = [](const ranked& a, const ranked& b) {
    return a.score > b.score;
  };
  switch (request.strategy) {
  case routing_strategy::bridge_ring:
    std::sort(eligible.begin(), eligible.end(), by_score);
    break;
  case routing_strategy::deterministic_rotation:
    std::sort(eligible.begin(), eligible.end(), [](const ranked& a, const ranked& b) {
      return a.candidate->account_id < b.candidate->account_id;
    });
    if (!eligible.empty()) {
      std::rotate(eligible.begin(),
                  eligible.begin()
                    + static_cast<std::ptrdiff_t>(seed_hash(request.seed) % eligible.size()),
                  eligible.end());
    }
    break;
  case routing_strategy::least_recent_success:
    std::sort(eligible.begin(), eligible.end(), [&by_score](const ranked& a, const ranked& b) {
      const auto a_at = a.candidate->last_success_at.value_or(time_point{});
      const auto b_at = b.candidate->last_success_at.value_or(time_point{});
      return a_at != b_at ? a_at < b_at : by_score(a, b);
    });
    break;
  case routing_strategy::quota_first:
    std::sort(eligible.begin(), eligible.end(), [&by_score, now](const ranked& a, const ranked& b) {
      const auto a_capacity = capacity_score(a.candidate->quota, now);
      const auto b_capacity = capacity_score(b.candidate->quota, now);
      return a_capacity != b_capacity ? a_capacity > b_capacity : by_score(a, b);
    });
    break;
  }
  // Demoted accounts keep their relative order behind the rest; a pinned one leads regardless.
  std::stable_partition(eligible.begin(), eligible.end(),
                        [now](const ranked& entry) { return !is_demoted(*entry.candidate, now); });
  if (request.pinned_account) {
    auto pinned = std::find_if(eligible.begin(), eligible.end(), [&request](const ranked& entry) {
      return entry.candidate->account_id == *request.pinned_account;
    });
    if (pinned != eligible.end()) {
      std::rotate(eligible.begin(), pinned, pinned + 1);
    }
  }
  for (size_t i = 0; i < eligible.size(); ++i) {
    (i < request.ring_size ? out.ordered : out.beyond_ring)
      .push_back(eligible[i].candidate->account_id);
  }
  return out;
}

} // namespace cxp::domain
