#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <soci/soci.h>

namespace cxp::persistence {

/// Typed, null-aware access to a `soci::row` that hides the backends' differing integer types
/// (SQLite reports `int` where PostgreSQL reports `long long`) — used only inside repositories.
class row_reader {
public:
  explicit row_reader(const soci::row& row) : row_(row) {}

  std::string text(size_t column) const;
  std::optional<std::string> opt_text(size_t column) const;
  int64_t int64(size_t column) const;
  std::optional<int64_t> opt_int64(size_t column) const;
  double real(size_t column) const;
  bool flag(size_t column) const { return int64(column) != 0; }

private:
  bool is_null(size_t column) const { return row_.get_indicator(column) == soci::i_null; }

  const soci::row& row_;
};

/// A nullable value bound as a SOCI `use` parameter (SOCI 4.0 has no std::optional support).
template <class T>
struct nullable_use {
  T value{};
  soci::indicator indicator = soci::i_null;

  nullable_use() = default;
  explicit nullable_use(const std::optional<T>& source) {
    if (source) {
      value = *source;
      indicator = soci::i_ok;
    }
  }
};

} // namespace cxp::persistence
