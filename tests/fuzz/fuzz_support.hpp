#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// Helpers shared by the libFuzzer harnesses. No harness catches exceptions: one escaping a
// parser is a finding (libFuzzer reports the uncaught exception as a crash), exactly as it
// would escape the handler in production.

namespace cxp::fuzz {

/// The fuzzer's bytes as text.
inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Aborts, naming the broken invariant, when `ok` is false.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

/// Keeps `value` observable so the optimiser cannot drop the work that produced it.
template <class T>
void keep(const T& value) {
  asm volatile("" : : "r"(&value) : "memory");
}

/// Splits the input into the part before the first occurrence of `separator` and the rest
/// (the rest is empty when there is no separator).
inline std::pair<std::string_view, std::string_view> split_at(std::string_view text,
                                                              std::string_view separator) {
  const auto at = text.find(separator);
  if (at == std::string_view::npos) {
    return {text, {}};
  }
  return {text.substr(0, at), text.substr(at + separator.size())};
}

} // namespace cxp::fuzz
