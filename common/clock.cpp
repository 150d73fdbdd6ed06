#include "common/clock.hpp"

#include <cstdio>
#include <ctime>

namespace cxp {

std::string to_iso8601(time_point tp) {
  using namespace std::chrono;
  const auto micros = duration_cast<microseconds>(tp.time_since_epoch()).count();
  auto seconds_part = micros / 1'000'000;
  auto fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    seconds_part -= 1;
  }
  const std::time_t t = seconds_part;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(fraction));
  return buffer;
}

std::optional<time_point> parse_iso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  const std::string copy{text};
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed)
      != 6) {
    return std::nullopt;
  }
  long long micros = 0;
  auto rest = text.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (rest.front() - '0');
        ++digits;
      }
      rest.remove_prefix(1);
    }
    for (; digits < 6; ++digits) {
      micros *= 10;
    }
  }
  if (!rest.empty() && rest != "Z" && rest != "+00:00") {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const auto seconds_since_epoch = timegm(&utc);
  // A time_point counts nanoseconds in 64 bits (years 1678 to 2261); outside that the
  // conversion below would overflow.
  constexpr auto representable =
    std::chrono::duration_cast<std::chrono::seconds>(time_point::duration::max()).count() - 1;
  if (seconds_since_epoch < -representable || seconds_since_epoch > representable) {
    return std::nullopt;
  }
  return time_point{std::chrono::seconds{seconds_since_epoch}} + std::chrono::microseconds{micros};
}

} // namespace cxp
