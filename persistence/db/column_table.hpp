#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

/// One selected column of a repository's row type: its name in SQL and how its value lands in
/// `Row`. A repository declares one `column_table` and builds both its SELECT list and its row
/// mapping from it, so a column's position and its name cannot drift apart.
template <class Row>
struct column {
  std::string_view name;
  void (*read)(const row_reader& reader, size_t index, Row& out);
};

namespace detail {

template <class T>
struct member_of;

template <class Owner, class T>
struct member_of<T Owner::*> {
  using owner = Owner;
  using type = T;
};

template <auto Member>
void read_member(const row_reader& r, size_t i, typename member_of<decltype(Member)>::owner& out) {
  using type = typename member_of<decltype(Member)>::type;
  if constexpr (std::is_same_v<type, std::string>) {
    out.*Member = r.text(i);
  } else if constexpr (std::is_same_v<type, std::optional<std::string>>) {
    out.*Member = r.opt_text(i);
  } else if constexpr (std::is_same_v<type, bool>) {
    out.*Member = r.flag(i);
  } else if constexpr (std::is_integral_v<type>) {
    out.*Member = static_cast<type>(r.int64(i));
  } else if constexpr (std::is_floating_point_v<type>) {
    out.*Member = r.real(i);
  } else if constexpr (std::is_same_v<type, std::optional<int64_t>>) {
    out.*Member = r.opt_int64(i);
  } else if constexpr (std::is_same_v<type, std::optional<int32_t>>) {
    auto value = r.opt_int64(i);
    out.*Member = value ? std::optional<int32_t>{static_cast<int32_t>(*value)} : std::nullopt;
  } else {
    static_assert(sizeof(type) == 0, "no row_reader read for this member type");
  }
}

} // namespace detail

/// The column `name` read into `Member` with the `row_reader` read its type calls for (text,
/// optional text, flag, integer, real, optional integer).
template <auto Member>
constexpr column<typename detail::member_of<decltype(Member)>::owner> col(std::string_view name) {
  return {name, &detail::read_member<Member>};
}

/// The ordered columns of one row type; see `column`.
template <class Row, size_t N>
class column_table {
public:
  constexpr explicit column_table(std::array<column<Row>, N> columns) : columns_(columns) {}

  static constexpr size_t size() { return N; }

  /// "a, b, c", each name qualified as `alias.name` when `alias` is given.
  std::string select_list(std::string_view alias = {}) const {
    std::string out;
    for (const auto& entry : columns_) {
      if (!out.empty()) {
        out += ", ";
      }
      if (!alias.empty()) {
        out.append(alias).append(".");
      }
      out.append(entry.name);
    }
    return out;
  }

  /// The row held by result columns [offset, offset + N), selected with `select_list`.
  Row read(const soci::row& row, size_t offset = 0) const {
    row_reader reader{row};
    Row out{};
    for (size_t i = 0; i < N; ++i) {
      columns_[i].read(reader, offset + i, out);
    }
    return out;
  }

private:
  std::array<column<Row>, N> columns_;
};

/// A column_table from its columns, in SELECT order.
template <class Row, class... More>
constexpr auto make_column_table(column<Row> first, More... more) {
  return column_table<Row, 1 + sizeof...(More)>{
    std::array<column<Row>, 1 + sizeof...(More)>{first, more...}};
}

} // namespace cxp::persistence
