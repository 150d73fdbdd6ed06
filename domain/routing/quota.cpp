#include "domain/routing/quota.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "common/encoding.hpp"

namespace cxp::domain {

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

/// Upstream numbers are untrusted: a double outside the integer range (or NaN) must not reach a
/// cast, and a time_point holds nanoseconds in 64 bits, so seconds are bounded to ±100 years and
/// minutes to 0..10^7 before they are converted.
std::chrono::seconds bounded_seconds(double seconds) {
  constexpr double limit = 100.0 * 366 * 24 * 3600;
  return std::chrono::seconds{
    static_cast<int64_t>(std::isnan(seconds) ? 0.0 : std::clamp(seconds, -limit, limit))};
}

int32_t bounded_minutes(double minutes) {
  return static_cast<int32_t>(std::isnan(minutes) ? 0.0 : std::clamp(minutes, 0.0, 1e7));
}

time_point from_unix(double seconds) {
  return time_point{bounded_seconds(seconds)};
}

/// The weekly window keeps one identity even when the provider reports it in the primary slot.
std::string normalized_kind(std::string kind, int32_t minutes) {
  return minutes == weekly_minutes ? "secondary" : kind;
}

bool is_fresh(const quota_window& window, time_point now) {
  return now - window.observed_at <= quota_freshness;
}

/// `codex-bengalfox` → `codex_bengalfox`.
std::string family_id(std::string text) {
  std::replace(text.begin(), text.end(), '-', '_');
  return text;
}

/// A model slug or a limit's display name, compared case-insensitively with spaces and
/// underscores as dashes.
std::string model_key(std::string_view text) {
  std::string key;
  for (const char c : ascii_lowercase(text)) {
    key += c == ' ' || c == '_' ? '-' : c;
  }
  return key;
}

/// A rate-limit slot object (`used_percent` required) as a window, or nullopt.
std::optional<quota_window> window_of(const nlohmann::json& slot, time_point now, int32_t minutes) {
  if (!slot.is_object() || !slot.contains("used_percent") || !slot["used_percent"].is_number()) {
    return std::nullopt;
  }
  quota_window window;
  window.used_percent = slot["used_percent"].get<double>();
  window.observed_at = now;
  window.window_minutes = minutes;
  if (slot.contains("reset_at") && slot["reset_at"].is_number()) {
    window.reset_at = from_unix(slot["reset_at"].get<double>());
  } else if (slot.contains("reset_after_seconds") && slot["reset_after_seconds"].is_number()) {
    window.reset_at = now + bounded_seconds(slot["reset_after_seconds"].get<double>());
  }
  return window;
}

/// The windows of a usage document's `rate_limit` object (`primary_window`, `secondary_window`).
void add_usage_windows(std::vector<quota_window>& windows, const nlohmann::json& limit,
                       time_point now, const std::string& limit_id, const std::string& limit_name) {
  if (!limit.is_object()) {
    return;
  }
  for (const std::string kind : {"primary", "secondary"}) {
    const auto slot = limit.find(kind + "_window");
    if (slot == limit.end() || !slot->is_object()) {
      continue;
    }
    const auto seconds = slot->value("limit_window_seconds", nlohmann::json{0});
    auto window =
      window_of(*slot, now, seconds.is_number() ? bounded_minutes(seconds.get<double>() / 60) : 0);
    if (!window) {
      continue;
    }
    window->kind = normalized_kind(kind, window->window_minutes);
    window->limit_id = limit_id;
    window->limit_name = limit_name;
    windows.push_back(*window);
  }
}

bool same_window(const quota_window& a, const quota_window& b) {
  if (a.limit_id != b.limit_id) {
    return false;
  }
  if (a.window_minutes > 0 && b.window_minutes > 0) {
    return a.window_minutes == b.window_minutes;
  }
  return a.kind == b.kind;
}

bool blocks(const quota_window& window, time_point now) {
  return is_fresh(window, now) && window.used_percent >= full_percent && window.reset_at
         && *window.reset_at > now;
}

} // namespace

std::vector<quota_window>
parse_rate_limit_headers(const std::map<std::string, std::string>& headers, time_point now) {
  std::set<std::string> families;
  for (const auto& [name, value] : headers) {
    for (const std::string_view suffix : {"-primary-used-percent", "-secondary-used-percent"}) {
      if (name.size() > suffix.size() + 2 && name.rfind("x-", 0) == 0
          && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        families.insert(name.substr(2, name.size() - suffix.size() - 2));
      }
    }
  }
  std::vector<quota_window> windows;
  for (const auto& family : families) {
    for (const std::string kind : {"primary", "secondary"}) {
      const auto prefix = "x-" + family + "-" + kind + "-";
      auto used = header(headers, prefix + "used-percent");
      auto used_value = used ? to_number(*used) : std::nullopt;
      if (!used_value) {
        continue;
      }
      quota_window window;
      window.used_percent = *used_value;
      window.observed_at = now;
      if (auto minutes = header(headers, prefix + "window-minutes")) {
        window.window_minutes = bounded_minutes(to_number(*minutes).value_or(0));
      }
      if (auto reset_at = header(headers, prefix + "reset-at"); reset_at && to_number(*reset_at)) {
        window.reset_at = from_unix(*to_number(*reset_at));
      } else if (auto after = header(headers, prefix + "reset-after-seconds");
                 after && to_number(*after)) {
        window.reset_at = now + bounded_seconds(*to_number(*after));
      }
      window.kind = normalized_kind(kind, window.window_minutes);
      window.limit_id = family_id(family);
      if (window.limit_id != main_limit) {
        window.limit_name = header(headers, "x-" + family + "-limit-name").value_or("");
      }
      windows.push_back(window);
    }
  }
  return windows;
}

std::vector<quota_window> parse_rate_limits_event(const nlohmann::json& event, time_point now) {
  std::vector<quota_window> windows;
  const auto limits = event.find("rate_limits");
  if (limits == event.end() || !limits->is_object()) {
    return windows;
  }
  std::string limit_id{main_limit};
  for (const auto* field : {"metered_limit_name", "limit_name"}) {
    if (event.contains(field) && event[field].is_string() && !event[field].empty()) {
      limit_id = family_id(event[field].get<std::string>());
      break;
    }
  }
  for (const std::string kind : {"primary", "secondary"}) {
    const auto slot = limits->find(kind);
    if (slot == limits->end() || !slot->is_object()) {
      continue;
    }
    const auto minutes = slot->value("window_minutes", nlohmann::json{0});
    auto window =
      window_of(*slot, now, minutes.is_number() ? bounded_minutes(minutes.get<double>()) : 0);
    if (!window) {
      continue;
    }
    window->kind = normalized_kind(kind, window->window_minutes);
    window->limit_id = limit_id;
    windows.push_back(*window);
  }
  return windows;
}

std::vector<quota_window> parse_usage_document(const nlohmann::json& document, time_point now) {
  std::vector<quota_window> windows;
  if (const auto limit = document.find("rate_limit"); limit != document.end()) {
    add_usage_windows(windows, *limit, now, std::string{main_limit}, "");
  }
  const auto additional = document.find("additional_rate_limits");
  if (additional == document.end() || !additional->is_array()) {
    return windows;
  }
  for (const auto& entry : *additional) {
    if (!entry.is_object() || !entry.contains("rate_limit")) {
      continue;
    }
    const auto name = entry.value("limit_name", nlohmann::json{""});
    const auto feature = entry.value("metered_feature", nlohmann::json{""});
    const auto limit_name = name.is_string() ? name.get<std::string>() : std::string{};
    auto limit_id = feature.is_string() ? feature.get<std::string>() : std::string{};
    if (limit_id.empty()) {
      limit_id = limit_name;
    }
    if (limit_id.empty()) {
      continue;
    }
    add_usage_windows(windows, entry["rate_limit"], now, family_id(limit_id), limit_name);
  }
  return windows;
}

std::vector<quota_window> merge_windows(std::vector<quota_window> current,
                                        const std::vector<quota_window>& observed) {
  for (const auto& window : observed) {
    auto same = std::find_if(current.begin(), current.end(),
                             [&](const auto& known) { return same_window(known, window); });
    if (same == current.end()) {
      current.push_back(window);
    } else if (window.observed_at >= same->observed_at) {
      auto name = std::move(same->limit_name);
      *same = window;
      if (same->limit_name.empty()) {
        same->limit_name = std::move(name);
      }
    }
  }
  // A family named once keeps its name for observations that do not repeat it (events).
  for (auto& window : current) {
    if (window.limit_name.empty() && window.limit_id != main_limit) {
      for (const auto& named : current) {
        if (named.limit_id == window.limit_id && !named.limit_name.empty()) {
          window.limit_name = named.limit_name;
          break;
        }
      }
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
    return now + bounded_seconds((*error)["resets_in_seconds"].get<double>());
  }
  return std::nullopt;
}

usage_limit_evidence usage_limit_of(std::optional<time_point> reset, std::string_view active_limit,
                                    const std::vector<quota_window>& observed, time_point now) {
  const auto family = family_id(std::string{active_limit});
  if (family.empty() || family == main_limit) {
    return {reset, std::nullopt};
  }
  quota_window window{"usage_limit", 0, full_percent, reset, now, family, ""};
  for (const auto& known : observed) {
    if (known.limit_id == family && !known.limit_name.empty()) {
      window.limit_name = known.limit_name;
    }
  }
  if (!window.reset_at) {
    window.reset_at = exhausted_until(observed, now);
  }
  return {std::nullopt, window};
}

bool covers(const quota_window& window, std::string_view model) {
  if (window.limit_id == main_limit) {
    return true;
  }
  return !model.empty() && !window.limit_name.empty()
         && model_key(window.limit_name) == model_key(model);
}

std::vector<quota_window> covering(const std::vector<quota_window>& windows,
                                   std::string_view model) {
  std::vector<quota_window> out;
  for (const auto& window : windows) {
    if (covers(window, model)) {
      out.push_back(window);
    }
  }
  return out;
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

} // namespace cxp::domain
