#include "domain/routing/pool_capacity.hpp"

namespace cxp::domain {

namespace {

constexpr double full_percent = 100.0;

bool is_blocked(const quota_member& member, time_point now) {
  if (member.exhausted_until && *member.exhausted_until > now) {
    return true;
  }
  for (const auto& window : member.windows) {
    if (window.limit_id == main_limit && window.used_percent >= full_percent && window.reset_at
        && *window.reset_at > now) {
      return true;
    }
  }
  return false;
}

} // namespace

pool_capacity capacity_of(const std::vector<quota_member>& members, time_point now) {
  pool_capacity capacity;
  capacity.accounts = static_cast<int32_t>(members.size());
  bool any_routable = false;
  for (const auto& member : members) {
    any_routable = any_routable || member.routable;
    if (member.routable && !is_blocked(member, now)) {
      ++capacity.eligible;
    }
  }
  if (!any_routable) {
    // Nothing can carry load: the pool is as full as it gets, whatever stale evidence says.
    if (!members.empty()) {
      capacity.primary_used_percent = full_percent;
      capacity.secondary_used_percent = full_percent;
    }
    return capacity;
  }
  const auto pooled = pool_quota(members, now);
  if (pooled.main.primary) {
    capacity.primary_used_percent = pooled.main.primary->used_percent;
  }
  if (pooled.main.secondary) {
    capacity.secondary_used_percent = pooled.main.secondary->used_percent;
  }
  return capacity;
}

} // namespace cxp::domain
