#include "domain/routing/pooled_quota.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr int32_t weekly_minutes = 10'080;
constexpr double full_percent = 100.0;
constexpr int64_t seconds_per_minute = 60;

int64_t unix_seconds(time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

double clamp_percent(double value) {
  return std::isnan(value) ? 0.0 : std::clamp(value, 0.0, full_percent);
}

/// Two decimals are what a client can show; rounding once here keeps every rendering equal.
double round_percent(double value) {
  return std::round(value * 100.0) / 100.0;
}

std::string format_percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  std::string out{text};
  while (!out.empty() && out.back() == '0') {
    out.pop_back();
  }
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

/// Evidence is current until its window resets; a window without a reset only while fresh.
bool is_current(const quota_window& window, time_point now) {
  if (window.reset_at) {
    return *window.reset_at > now;
  }
  return now - window.observed_at <= quota_freshness;
}

void keep_earliest(std::optional<time_point>& earliest, const std::optional<time_point>& at) {
  if (at && (!earliest || *at < *earliest)) {
    earliest = at;
  }
}

/// Until when a usage limit of `limit_id` blocks `member` (nullopt: it does not).
std::optional<time_point> blocked_until(const quota_member& member, const std::string& limit_id,
                                        time_point now) {
  std::optional<time_point> until;
  if (limit_id == main_limit && member.exhausted_until && *member.exhausted_until > now) {
    until = member.exhausted_until;
  }
  for (const auto& window : member.windows) {
    if (window.limit_id == limit_id && window.used_percent >= full_percent && window.reset_at
        && *window.reset_at > now && (!until || *window.reset_at > *until)) {
      until = window.reset_at;
    }
  }
  return until;
}

const quota_window* current_window(const quota_member& member, const std::string& limit_id,
                                   int32_t minutes, time_point now) {
  const quota_window* found = nullptr;
  for (const auto& window : member.windows) {
    if (window.limit_id == limit_id && window.window_minutes == minutes && is_current(window, now)
        && (!found || window.observed_at > found->observed_at)) {
      found = &window;
    }
  }
  return found;
}

pooled_window pool_window(const std::vector<const quota_member*>& members,
                          const std::string& limit_id, int32_t minutes, time_point now) {
  double used_sum = 0.0;
  bool all_full = true;
  std::optional<time_point> first_back;
  std::optional<time_point> carrying_reset;
  std::optional<time_point> any_reset;
  for (const auto* member : members) {
    const auto* window = current_window(*member, limit_id, minutes, now);
    const auto blocked = blocked_until(*member, limit_id, now);
    double used = 0.0;
    std::optional<time_point> reset;
    if (window != nullptr) {
      used = clamp_percent(window->used_percent);
      if (window->reset_at && *window->reset_at > now) {
        reset = window->reset_at;
      }
    } else if (blocked) {
      used = full_percent;
      reset = blocked;
    }
    used_sum += used;
    all_full = all_full && used >= full_percent;
    keep_earliest(any_reset, reset);
    if (used >= full_percent) {
      keep_earliest(first_back, reset);
    }
    if (window != nullptr && !blocked) {
      keep_earliest(carrying_reset, reset);
    }
  }
  pooled_window pooled;
  pooled.window_minutes = minutes;
  pooled.used_percent = members.empty() ? 0.0 : round_percent(used_sum / members.size());
  pooled.reset_at = all_full && first_back ? first_back
                    : carrying_reset       ? carrying_reset
                                           : any_reset;
  if (!pooled.reset_at) {
    // No member knows when this window resets: it starts with the next use, so it resets one
    // full window from now at the earliest.
    pooled.reset_at = now + std::chrono::minutes{minutes};
  }
  return pooled;
}

pooled_family pool_family(const std::vector<const quota_member*>& members,
                          const std::string& limit_id, time_point now) {
  pooled_family family;
  family.limit_id = limit_id;
  std::set<int32_t> durations;
  for (const auto* member : members) {
    for (const auto& window : member->windows) {
      if (window.limit_id != limit_id) {
        continue;
      }
      if (window.window_minutes > 0) {
        durations.insert(window.window_minutes);
      }
      if (family.limit_name.empty()) {
        family.limit_name = window.limit_name;
      }
    }
  }
  family.limit_reached =
    std::all_of(members.begin(), members.end(), [&](const quota_member* member) {
      return blocked_until(*member, limit_id, now).has_value();
    });
  if (durations.empty()) {
    return family;
  }
  const auto shortest = *durations.begin();
  const auto longest = *durations.rbegin();
  if (durations.size() == 1) {
    (shortest == weekly_minutes ? family.secondary : family.primary) =
      pool_window(members, limit_id, shortest, now);
    return family;
  }
  family.primary = pool_window(members, limit_id, shortest, now);
  family.secondary = pool_window(members, limit_id, longest, now);
  return family;
}

std::string most_common_plan(const std::vector<const quota_member*>& members) {
  std::map<std::string, int> plans;
  for (const auto* member : members) {
    if (!member->plan_type.empty()) {
      ++plans[member->plan_type];
    }
  }
  std::string plan = "plus";
  int best = 0;
  for (const auto& [name, count] : plans) {
    if (count > best) {
      plan = name;
      best = count;
    }
  }
  return plan;
}

/// `codex_bengalfox` → `codex-bengalfox`, the header prefix of a family.
std::string header_prefix(std::string limit_id) {
  std::replace(limit_id.begin(), limit_id.end(), '_', '-');
  return "x-" + limit_id + "-";
}

void add_window_headers(std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& prefix, const char* slot,
                        const std::optional<pooled_window>& window, time_point now) {
  if (!window) {
    return;
  }
  const auto name = prefix + slot + "-";
  headers.emplace_back(name + "used-percent", format_percent(window->used_percent));
  headers.emplace_back(name + "window-minutes", std::to_string(window->window_minutes));
  if (window->reset_at) {
    headers.emplace_back(name + "reset-at", std::to_string(unix_seconds(*window->reset_at)));
    headers.emplace_back(
      name + "reset-after-seconds",
      std::to_string(std::max<int64_t>(0, unix_seconds(*window->reset_at) - unix_seconds(now))));
  }
}

json event_window(const pooled_window& window) {
  json out = {{"used_percent", window.used_percent}, {"window_minutes", window.window_minutes}};
  if (window.reset_at) {
    out["reset_at"] = unix_seconds(*window.reset_at);
  }
  return out;
}

json event_of(const pooled_family& family, const std::string& plan_type) {
  json limits = {{"allowed", !family.limit_reached}, {"limit_reached", family.limit_reached}};
  if (family.primary) {
    limits["primary"] = event_window(*family.primary);
  }
  if (family.secondary) {
    limits["secondary"] = event_window(*family.secondary);
  }
  json event = {{"type", "codex.rate_limits"}, {"plan_type", plan_type}, {"rate_limits", limits}};
  if (family.limit_id != main_limit) {
    event["metered_limit_name"] = family.limit_id;
  }
  return event;
}

json document_window(const std::optional<pooled_window>& window, time_point now) {
  if (!window) {
    return nullptr;
  }
  json out = {{"used_percent", static_cast<int32_t>(std::floor(window->used_percent))},
              {"limit_window_seconds", int64_t{window->window_minutes} * seconds_per_minute}};
  if (window->reset_at) {
    out["reset_after_seconds"] =
      std::max<int64_t>(0, unix_seconds(*window->reset_at) - unix_seconds(now));
    out["reset_at"] = unix_seconds(*window->reset_at);
  }
  return out;
}

json document_limit(const pooled_family& family, time_point now) {
  return {{"allowed", !family.limit_reached},
          {"limit_reached", family.limit_reached},
          {"primary_window", document_window(family.primary, now)},
          {"secondary_window", document_window(family.secondary, now)}};
}

} // namespace

pooled_quota pool_quota(const std::vector<quota_member>& members, time_point now) {
  std::vector<const quota_member*> routable;
  std::set<std::string> additional_ids;
  for (const auto& member : members) {
    if (!member.routable) {
      continue;
    }
    routable.push_back(&member);
    for (const auto& window : member.windows) {
      if (window.limit_id != main_limit && !window.limit_id.empty()) {
        additional_ids.insert(window.limit_id);
      }
    }
  }
  pooled_quota quota;
  quota.plan_type = most_common_plan(routable);
  quota.main = pool_family(routable, std::string{main_limit}, now);
  for (const auto& limit_id : additional_ids) {
    std::vector<const quota_member*> reporters;
    for (const auto* member : routable) {
      if (std::any_of(member->windows.begin(), member->windows.end(),
                      [&](const auto& window) { return window.limit_id == limit_id; })) {
        reporters.push_back(member);
      }
    }
    quota.additional.push_back(pool_family(reporters, limit_id, now));
  }
  return quota;
}

std::vector<quota_member> with_observation(std::vector<quota_member> members,
                                           const std::string& account_id,
                                           const std::vector<quota_window>& observed,
                                           std::optional<time_point> exhausted_until) {
  for (auto& member : members) {
    if (member.account_id != account_id) {
      continue;
    }
    member.windows = merge_windows(std::move(member.windows), observed);
    if (exhausted_until
        && (!member.exhausted_until || *exhausted_until > *member.exhausted_until)) {
      member.exhausted_until = exhausted_until;
    }
  }
  return members;
}

pooled_quota tighten(pooled_quota quota, const std::vector<key_window>& key_windows) {
  auto& main = quota.main;
  for (const auto& cap : key_windows) {
    const pooled_window window{cap.window_minutes, round_percent(clamp_percent(cap.used_percent)),
                               cap.reset_at};
    std::optional<pooled_window>* slot = &main.primary;
    if (main.secondary && main.secondary->window_minutes == cap.window_minutes) {
      slot = &main.secondary;
    } else if (cap.window_minutes == weekly_minutes && !main.secondary) {
      slot = &main.secondary;
    }
    if (!*slot || window.used_percent > (*slot)->used_percent) {
      *slot = window;
    }
    main.limit_reached = main.limit_reached || window.used_percent >= full_percent;
  }
  return quota;
}

std::vector<std::pair<std::string, std::string>> quota_headers(const pooled_quota& quota,
                                                               time_point now) {
  std::vector<std::pair<std::string, std::string>> headers;
  const auto main_prefix = header_prefix(std::string{main_limit});
  add_window_headers(headers, main_prefix, "primary", quota.main.primary, now);
  add_window_headers(headers, main_prefix, "secondary", quota.main.secondary, now);
  for (const auto& family : quota.additional) {
    const auto prefix = header_prefix(family.limit_id);
    add_window_headers(headers, prefix, "primary", family.primary, now);
    add_window_headers(headers, prefix, "secondary", family.secondary, now);
    if (!family.limit_name.empty() && (family.primary || family.secondary)) {
      headers.emplace_back(prefix + "limit-name", family.limit_name);
    }
  }
  return headers;
}

std::vector<json> rate_limits_events(const pooled_quota& quota) {
  std::vector<json> events{event_of(quota.main, quota.plan_type)};
  for (const auto& family : quota.additional) {
    events.push_back(event_of(family, quota.plan_type));
  }
  return events;
}

json usage_document(const pooled_quota& quota, time_point now) {
  json additional = json::array();
  for (const auto& family : quota.additional) {
    additional.push_back(
      {{"limit_name", family.limit_name.empty() ? family.limit_id : family.limit_name},
       {"metered_feature", family.limit_id},
       {"rate_limit", document_limit(family, now)}});
  }
  const bool reached = quota.main.limit_reached;
  return {
    {"plan_type", quota.plan_type},
    {"rate_limit", document_limit(quota.main, now)},
    {"credits", {{"has_credits", false}, {"unlimited", false}, {"balance", "0"}}},
    {"additional_rate_limits", additional},
    {"rate_limit_reached_type", reached ? json{{"type", "rate_limit_reached"}} : json(nullptr)}};
}

} // namespace cxp::domain
