#include "actors/routing/quota.hpp"

#include <algorithm>
#include <charconv>

namespace cxp::actors {

namespace {

constexpr int32_t weekly_minutes = 10'080;
constexpr double full_percent = 100.0;

std::optional<double> to_number(const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    return used == text.size() ? std::optional<double>{value} : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> header(const std::map<std::string, std::string>& headers,
                                  const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::nullopt : std::optional<std::string>{it->second};
}

time_point from_unix(double seconds) {
  return time_point{std::chrono::seconds{static_cast<int64_t>(seconds)}};
}

/// The weekly window keeps one identity even when the provider reports it in the primary slot.
std::string normalized_kind(std::string kind, int32_t minutes) {
  return minutes == weekly_minutes ? "secondary" : kind;
}

bool is_fresh(const quota_window& window, time_point now) {
  return now - window.observed_at <= quota_freshness;
}

bool blocks(const quota_window& window, time_point now) {
  return is_fresh(window, now) && window.used_percent >= full_percent && window.reset_at
         && *window.reset_at > now;
}

} // namespace

std::vector<quota_window>
parse_rate_limit_headers(const std::map<std::string, std::string>& headers, time_point now) {
  std::vector<quota_window> windows;
  for (const std::string kind : {"primary", "secondary"}) {
    const auto prefix = "x-codex-" + kind + "-";
    auto used = header(headers, prefix + "used-percent");
    auto used_value = used ? to_number(*used) : std::nullopt;
    if (!used_value) {
      continue;
    }
    quota_window window;
    window.used_percent = *used_value;
    window.observed_at = now;
    if (auto minutes = header(headers, prefix + "window-minutes")) {
      window.window_minutes = static_cast<int32_t>(to_number(*minutes).value_or(0));
    }
    if (auto reset_at = header(headers, prefix + "reset-at"); reset_at && to_number(*reset_at)) {
      window.reset_at = from_unix(*to_number(*reset_at));
    } else if (auto after = header(headers, prefix + "reset-after-seconds");
               after && to_number(*after)) {
      window.reset_at = now + std::chrono::seconds{static_cast<int64_t>(*to_number(*after))};
    }
    window.kind = normalized_kind(kind, window.window_minutes);
    windows.push_back(window);
  }
  return windows;
}

std::vector<quota_window> parse_rate_limits_event(const nlohmann::json& event, time_point now) {
  std::vector<quota_window> windows;
  const auto limits = event.find("rate_limits");
  if (limits == event.end() || !limits->is_object()) {
    return windows;
  }
  for (const std::string kind : {"primary", "secondary"}) {
    const auto slot = limits->find(kind);
    if (slot == limits->end() || !slot->is_object() || !slot->contains("used_percent")
        || !(*slot)["used_percent"].is_number()) {
      continue;
    }
    quota_window window;
    window.used_percent = (*slot)["used_percent"].get<double>();
    window.observed_at = now;
    window.window_minutes = slot->value("window_minutes", 0);
    if (slot->contains("reset_at") && (*slot)["reset_at"].is_number()) {
      window.reset_at = from_unix((*slot)["reset_at"].get<double>());
    }
    window.kind = normalized_kind(kind, window.window_minutes);
    windows.push_back(window);
  }
  return windows;
}

std::vector<quota_window> parse_usage_document(const nlohmann::json& document, time_point now) {
  std::vector<quota_window> windows;
  const auto limit = document.find("rate_limit");
  if (limit == document.end() || !limit->is_object()) {
    return windows;
  }
  for (const std::string kind : {"primary", "secondary"}) {
    const auto slot = limit->find(kind + "_window");
    if (slot == limit->end() || !slot->is_object() || !slot->contains("used_percent")
        || !(*slot)["used_percent"].is_number()) {
      continue;
    }
    quota_window window;
    window.used_percent = (*slot)["used_percent"].get<double>();
    window.observed_at = now;
    window.window_minutes = static_cast<int32_t>(slot->value("limit_window_seconds", 0) / 60);
    if (slot->contains("reset_at") && (*slot)["reset_at"].is_number()) {
      window.reset_at = from_unix((*slot)["reset_at"].get<double>());
    } else if (slot->contains("reset_after_seconds")
               && (*slot)["reset_after_seconds"].is_number()) {
      window.reset_at = now + std::chrono::seconds{(*slot)["reset_after_seconds"].get<int64_t>()};
    }
    window.kind = normalized_kind(kind, window.window_minutes);
    windows.push_back(window);
  }
  return windows;
}

std::vector<quota_window> merge_windows(std::vector<quota_window> current,
                                        const std::vector<quota_window>& observed) {
  for (const auto& window : observed) {
    auto same = std::find_if(current.begin(), current.end(),
                             [&](const auto& known) { return known.kind == window.kind; });
    if (same == current.end()) {
      current.push_back(window);
    } else if (window.observed_at >= same->observed_at) {
      *same = window;
    }
  }
  return current;
}

std::optional<time_point> parse_usage_limit_reset(const nlohmann::json& body, time_point now) {
  const auto error = body.find("error");
  if (error == body.end() || !error->is_object()) {
    return std::nullopt;
  }
  if (error->contains("resets_at") && (*error)["resets_at"].is_number()) {
    return from_unix((*error)["resets_at"].get<double>());
  }
  if (error->contains("resets_in_seconds") && (*error)["resets_in_seconds"].is_number()) {
    return now + std::chrono::seconds{(*error)["resets_in_seconds"].get<int64_t>()};
  }
  return std::nullopt;
}

bool is_exhausted(const std::vector<quota_window>& windows, time_point now) {
  return std::any_of(windows.begin(), windows.end(),
                     [now](const auto& window) { return blocks(window, now); });
}

std::optional<time_point> exhausted_until(const std::vector<quota_window>& windows,
                                          time_point now) {
  std::optional<time_point> until;
  for (const auto& window : windows) {
    if (blocks(window, now) && (!until || *window.reset_at > *until)) {
      until = window.reset_at;
    }
  }
  return until;
}

double capacity_score(const std::vector<quota_window>& windows, time_point now) {
  std::optional<double> score;
  for (const auto& window : windows) {
    if (!is_fresh(window, now) || !window.reset_at || *window.reset_at <= now) {
      continue;
    }
    const double remaining = std::max(0.0, full_percent - window.used_percent);
    score = score ? std::min(*score, remaining) : remaining;
  }
  return score.value_or(0.0);
}

} // namespace cxp::actors
