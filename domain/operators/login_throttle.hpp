#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"

namespace cxp::domain {

/// Limits of a `login_throttle`: at most `account_limit` failed logins per account email within
/// `account_window`, and `ip_limit` per client IP within `ip_window`. `max_tracked_keys` caps each
/// of the two maps so that an attacker rotating emails or addresses cannot grow memory unbounded.
/// A limit below 1 switches that dimension off.
struct login_throttle_config {
  static constexpr int default_account_limit = 5;
  static constexpr int default_ip_limit = 20;
  static constexpr std::chrono::seconds default_window{15 * 60};
  static constexpr size_t default_max_tracked_keys = 10'000;

  int account_limit = default_account_limit;
  std::chrono::seconds account_window = default_window;
  int ip_limit = default_ip_limit;
  std::chrono::seconds ip_window = default_window;
  size_t max_tracked_keys = default_max_tracked_keys;
};

/// Counts failed operator logins per account email (lower-cased) and per client IP inside a
/// sliding window, so the login path can refuse further attempts before it spends an Argon2
/// verification. Pure in-process state with no I/O; every method is thread-safe (one mutex), so a
/// single instance is shared by all HTTP workers through a `std::shared_ptr`. Time is passed in,
/// which keeps the class deterministic under a `manual_clock`. An empty email or IP is not tracked.
class login_throttle {
public:
  explicit login_throttle(login_throttle_config config = {});

  /// True when the account or the client IP has reached its limit of failures within its window
  /// ending at `now`.
  bool is_locked(std::string_view email, std::string_view client_ip, time_point now) const;

  /// Counts one failed attempt against both the account and the client IP.
  void record_failure(std::string_view email, std::string_view client_ip, time_point now);

  /// A successful login forgets the account's failures. The IP's failures stay, so one valid
  /// account cannot be used to reset the budget of an address that is guessing other accounts.
  void record_success(std::string_view email, std::string_view client_ip);

  /// How many keys (accounts plus IPs) are currently tracked; for tests of the memory bound.
  size_t tracked_keys() const;

  const login_throttle_config& config() const { return config_; }

private:
  /// Failure times of one key, oldest first, never more than the key's limit.
  using failures = std::deque<time_point>;
  using failure_map = std::unordered_map<std::string, failures>;

  static bool is_over(const failure_map& map, const std::string& key, int limit,
                      std::chrono::seconds window, time_point now);
  void add(failure_map& map, const std::string& key, int limit, std::chrono::seconds window,
           time_point now);

  login_throttle_config config_;
  mutable std::mutex mutex_;
  failure_map accounts_;
  failure_map ips_;
};

} // namespace cxp::domain
