#include "common/clock.hpp"

#include <cstdio>
#include <ctime>

#include "common/encoding.hpp"

namespace cxp {

// By hand rather than through gmtime and snprintf: every request log row and attempt renders a
// few of these.
std::string to_iso8601(time_point tp) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(tp);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const hh_mm_ss clock_time{micros - day};
  // A nanosecond time_point spans the years 1677 to 2262: always four digits.
  const int year = static_cast<int>(date.year());
  std::string text = "0000-00-00T00:00:00.000000Z";
  char* out = text.data();
  put_decimal_digits(out + 4, year, 4);
  put_decimal_digits(out + 7, static_cast<unsigned>(date.month()), 2);
  put_decimal_digits(out + 10, static_cast<unsigned>(date.day()), 2);
  put_decimal_digits(out + 13, clock_time.hours().count(), 2);
  put_decimal_digits(out + 16, clock_time.minutes().count(), 2);
  put_decimal_digits(out + 19, clock_time.seconds().count(), 2);
  put_decimal_digits(out + 26, clock_time.subseconds().count(), 6);
  return text;
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
