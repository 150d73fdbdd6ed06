#include "actors/pool/routing_messages.hpp"

namespace cxp::actors {

std::string_view to_string(route_class route) {
  switch (route) {
  case route_class::responses:
    return "responses";
  case route_class::compact:
    return "compact";
  }
  return "responses";
}

std::optional<route_class> parse_route_class(std::string_view text) {
  if (text == "responses") {
    return route_class::responses;
  }
  if (text == "compact") {
    return route_class::compact;
  }
  return std::nullopt;
}

domain::quota_member quota_member_of(const account_snapshot& account) {
  return {account.account_id, account.routable(), account.plan_type, account.quota,
          account.exhausted_until};
}

domain::pooled_quota pooled_quota_of(const quota_evidence& evidence, time_point now,
                                     const std::string& account_id,
                                     const std::vector<domain::quota_window>& observed,
                                     std::optional<time_point> exhausted_until) {
  std::vector<domain::quota_member> members;
  if (evidence.members) {
    members = *evidence.members;
  }
  if (!account_id.empty()) {
    members = domain::with_observation(std::move(members), account_id, observed, exhausted_until);
  }
  return domain::tighten(domain::pool_quota(members, now), evidence.key_windows);
}

} // namespace cxp::actors
