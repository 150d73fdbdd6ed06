#include "domain/accounts/account_ownership.hpp"

#include <algorithm>
#include <cstdint>

namespace cxp::domain {

namespace {

/// FNV-1a over the pair, finished with a splitmix64 round so nearby ids spread; stable across
/// processes and builds (std::hash is neither).
uint64_t weight(const std::string& node_id, const std::string& account_id) {
  uint64_t hash = 14695981039346656037ull;
  auto mix_in = [&hash](std::string_view text) {
    for (const unsigned char c : text) {
      hash = (hash ^ c) * 1099511628211ull;
    }
  };
  mix_in(node_id);
  mix_in("\x1f");
  mix_in(account_id);
  hash += 0x9e3779b97f4a7c15ull;
  hash = (hash ^ (hash >> 30)) * 0xbf58476d1ce4e5b9ull;
  hash = (hash ^ (hash >> 27)) * 0x94d049bb133111ebull;
  return hash ^ (hash >> 31);
}

} // namespace

bool role_may_own_accounts(std::string_view role) {
  return role == "all" || role == "worker" || role == "scheduler";
}

std::vector<std::string> owner_candidates(const std::vector<persistence::cluster_node_row>& nodes,
                                          time_point now, std::chrono::milliseconds liveness,
                                          const std::optional<std::string>& self) {
  std::vector<std::string> candidates;
  const auto oldest = to_iso8601(now - liveness);
  for (const auto& node : nodes) {
    if (role_may_own_accounts(node.role) && node.status == "up"
        && node.last_heartbeat_at >= oldest) {
      candidates.push_back(node.id);
    }
  }
  if (self) {
    candidates.push_back(*self);
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  return candidates;
}

std::optional<std::string> rendezvous_owner(const std::string& account_id,
                                            const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  uint64_t best_weight = 0;
  for (const auto& node : candidates) {
    const auto w = weight(node, account_id);
    if (!best || w > best_weight || (w == best_weight && node < *best)) {
      best = node;
      best_weight = w;
    }
  }
  return best;
}

std::set<std::string> accounts_owned_by(const std::string& node_id,
                                        const std::set<std::string>& account_ids,
                                        const std::vector<std::string>& candidates) {
  std::set<std::string> owned;
  for (const auto& account_id : account_ids) {
    if (rendezvous_owner(account_id, candidates) == node_id) {
      owned.insert(account_id);
    }
  }
  return owned;
}

} // namespace cxp::domain
