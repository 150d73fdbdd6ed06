#include "domain/routing/key_budget.hpp"

namespace cxp::domain {

namespace {

using days = std::chrono::duration<int64_t, std::ratio<86400>>;

} // namespace

time_point utc_day_start(time_point at) {
  return time_point{std::chrono::floor<days>(at.time_since_epoch())};
}

time_point utc_week_start(time_point at) {
  const auto day = std::chrono::floor<days>(at.time_since_epoch());
  // 1970-01-01 was a Thursday: days since the epoch + 3 is 0 on Mondays (mod 7).
  const auto since_monday = (day.count() + 3) % 7;
  return time_point{day - days{since_monday}};
}

std::optional<budget_refusal> key_budget::admit(const key_caps& caps, time_point now) {
  roll(now);
  while (!recent_requests_.empty() && recent_requests_.front() <= now - std::chrono::minutes{1}) {
    recent_requests_.pop_front();
  }
  if (caps.requests_per_minute
      && static_cast<int64_t>(recent_requests_.size()) >= *caps.requests_per_minute) {
    return budget_refusal{"the key's limit of " + std::to_string(*caps.requests_per_minute)
                            + " requests per minute is reached",
                          recent_requests_.front() + std::chrono::minutes{1}};
  }
  if (caps.tokens_per_day && day_tokens_ >= *caps.tokens_per_day) {
    return budget_refusal{"the key's limit of " + std::to_string(*caps.tokens_per_day)
                            + " tokens per day is reached",
                          day_start_ + days{1}};
  }
  if (caps.tokens_per_week && week_tokens_ >= *caps.tokens_per_week) {
    return budget_refusal{"the key's limit of " + std::to_string(*caps.tokens_per_week)
                            + " tokens per week is reached",
                          week_start_ + days{7}};
  }
  if (caps.requests_per_minute) {
    recent_requests_.push_back(now);
  }
  return std::nullopt;
}

void key_budget::add_tokens(int64_t tokens, time_point now) {
  roll(now);
  day_tokens_ += tokens;
  week_tokens_ += tokens;
}

void key_budget::seed(int64_t day_tokens, int64_t week_tokens, time_point now) {
  roll(now);
  day_tokens_ += day_tokens;
  week_tokens_ += week_tokens;
}

std::vector<key_window> key_budget::windows(const key_caps& caps, time_point now) {
  roll(now);
  std::vector<key_window> out;
  auto share = [](int64_t used, int64_t cap) {
    return cap <= 0 ? 100.0 : 100.0 * static_cast<double>(used) / static_cast<double>(cap);
  };
  if (caps.tokens_per_day) {
    out.push_back({1'440, share(day_tokens_, *caps.tokens_per_day), day_start_ + days{1}});
  }
  if (caps.tokens_per_week) {
    out.push_back({10'080, share(week_tokens_, *caps.tokens_per_week), week_start_ + days{7}});
  }
  return out;
}

void key_budget::roll(time_point now) {
  if (const auto day = utc_day_start(now); day != day_start_) {
    day_start_ = day;
    day_tokens_ = 0;
  }
  if (const auto week = utc_week_start(now); week != week_start_) {
    week_start_ = week;
    week_tokens_ = 0;
  }
}

} // namespace cxp::domain
