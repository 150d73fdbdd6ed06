#include "domain/operators/login_throttle.hpp"

#include <algorithm>
#include <cctype>

#include "common/encoding.hpp"

namespace cxp::domain {

login_throttle::login_throttle(login_throttle_config config) : config_(config) {}

bool login_throttle::is_locked(std::string_view email, std::string_view client_ip,
                               time_point now) const {
  std::lock_guard<std::mutex> guard{mutex_};
  return is_over(accounts_, ascii_lowercase(email), config_.account_limit, config_.account_window,
                 now)
         || is_over(ips_, std::string{client_ip}, config_.ip_limit, config_.ip_window, now);
}

void login_throttle::record_failure(std::string_view email, std::string_view client_ip,
                                    time_point now) {
  std::lock_guard<std::mutex> guard{mutex_};
  add(accounts_, ascii_lowercase(email), config_.account_limit, config_.account_window, now);
  add(ips_, std::string{client_ip}, config_.ip_limit, config_.ip_window, now);
}

void login_throttle::record_success(std::string_view email, std::string_view) {
  std::lock_guard<std::mutex> guard{mutex_};
  accounts_.erase(ascii_lowercase(email));
}

size_t login_throttle::tracked_keys() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return accounts_.size() + ips_.size();
}

bool login_throttle::is_over(const failure_map& map, const std::string& key, int limit,
                             std::chrono::seconds window, time_point now) {
  if (key.empty() || limit < 1) {
    return false;
  }
  const auto found = map.find(key);
  if (found == map.end()) {
    return false;
  }
  const auto since = now - window;
  const auto recent = std::count_if(found->second.begin(), found->second.end(),
                                    [&](time_point at) { return at > since; });
  return recent >= limit;
}

void login_throttle::add(failure_map& map, const std::string& key, int limit,
                         std::chrono::seconds window, time_point now) {
  if (key.empty() || limit < 1) {
    return;
  }
  const auto since = now - window;
  auto& times = map[key];
  while (!times.empty() && times.front() <= since) {
    times.pop_front();
  }
  times.push_back(now);
  // Only the newest `limit` failures can decide a lock, so older ones are dropped.
  while (times.size() > static_cast<size_t>(limit)) {
    times.pop_front();
  }
  if (map.size() <= config_.max_tracked_keys) {
    return;
  }
  for (auto i = map.begin(); i != map.end();) {
    if (i->second.empty() || i->second.back() <= since) {
      i = map.erase(i);
    } else {
      ++i;
    }
  }
  // Still full of live keys: forget the one whose latest failure is oldest, never the new key.
  while (map.size() > config_.max_tracked_keys) {
    auto victim = map.end();
    for (auto i = map.begin(); i != map.end(); ++i) {
      if (i->first != key && (victim == map.end() || i->second.back() < victim->second.back())) {
        victim = i;
      }
    }
    if (victim == map.end()) {
      break;
    }
    map.erase(victim);
  }
}

} // namespace cxp::domain
