#pragma once

#include <string>
#include <utility>

namespace cxp {

/// A value that must never be logged, rendered or serialised. It has no stream operator, no
/// formatter and no JSON conversion, so any attempt to print it fails to compile; the raw value is
/// reachable only through the explicit `expose()`.
template <class T>
class secret {
public:
  secret() = default;
  explicit secret(T value) : value_(std::move(value)) {}

  /// The raw value; call sites that use it are the places to audit.
  const T& expose() const noexcept { return value_; }

  bool empty() const noexcept { return value_.empty(); }

  friend bool operator==(const secret&, const secret&) = default;

private:
  T value_{};
};

} // namespace cxp
