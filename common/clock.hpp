#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cxp {

using time_point = std::chrono::system_clock::time_point;

/// The wall clock seam: quota, circuit, session and expiry logic take a `clock&` so tests can
/// drive time with `manual_clock` instead of sleeping.
class clock {
public:
  virtual ~clock() = default;
  virtual time_point now() const = 0;
};

/// The real UTC wall clock.
class system_clock_source final : public clock {
public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that only moves when a test advances it.
class manual_clock final : public clock {
public:
  explicit manual_clock(time_point start = time_point{std::chrono::seconds{1'800'000'000}})
      : now_(start) {}
  time_point now() const override { return now_; }
  void advance(std::chrono::microseconds by) { now_ += by; }
  void set(time_point at) { now_ = at; }

private:
  time_point now_;
};

/// Renders `tp` as fixed-width UTC ISO-8601 with microseconds, e.g. "2026-11-24T10:00:00.000000Z".
/// The fixed width makes stored times sort and compare correctly as text on every database.
std::string to_iso8601(time_point tp);

/// Parses the format produced by `to_iso8601` (the fraction and the 'Z' may be omitted).
std::optional<time_point> parse_iso8601(std::string_view text);

} // namespace cxp
