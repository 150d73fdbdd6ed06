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

/// A column's value as bound to a prepared statement, which holds references to these members;
/// they are reassigned for each row.
struct bound_value {
  std::string text;
  long long integer = 0;
  double real = 0;
  soci::indicator indicator = soci::i_ok;
};

/// Which member of `bound_value` a column binds.
enum class bound_kind : uint8_t { text, integer, real };

/// One column of a repository's row type: its name in SQL, how its value lands in `Row` and how
/// it is bound from `Row`. A repository declares one `column_table` and builds its SELECT list,
/// its row mapping and its INSERT from it, so a column's position and its name cannot drift
/// apart.
template <class Row>
struct column {
  std::string_view name;
  void (*read)(const row_reader& reader, size_t index, Row& out);
  void (*write)(const Row& row, bound_value& out);
  bound_kind kind;
};

namespace detail {

template <class T>
struct member_of;

template <class Owner, class T>
struct member_of<T Owner::*> {
  using owner = Owner;
  using type = T;
};

template <class Row, auto Member>
void read_member(const row_reader& r, size_t i, Row& out) {
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

template <class T>
struct value_of {
  using type = T;
};

template <class T>
struct value_of<std::optional<T>> {
  using type = T;
};

template <class T>
constexpr bound_kind kind_of() {
  using value = typename value_of<T>::type;
  if constexpr (std::is_same_v<value, std::string>) {
    return bound_kind::text;
  } else if constexpr (std::is_floating_point_v<value>) {
    return bound_kind::real;
  } else {
    return bound_kind::integer;
  }
}

template <class T>
void bind_value(const T& value, bound_value& out) {
  out.indicator = soci::i_ok;
  if constexpr (std::is_same_v<T, std::string>) {
    out.text = value;
  } else if constexpr (std::is_floating_point_v<T>) {
    out.real = value;
  } else if constexpr (std::is_integral_v<T>) {
    out.integer = static_cast<long long>(value);
  } else {
    static_assert(sizeof(T) == 0, "no bound_value for this member type");
  }
}

template <class T>
void bind_value(const std::optional<T>& value, bound_value& out) {
  if (value) {
    bind_value(*value, out);
  } else {
    out.indicator = soci::i_null;
  }
}

template <class Row, auto Member>
void write_member(const Row& row, bound_value& out) {
  bind_value(row.*Member, out);
}

template <class F>
struct function_of;

template <class Result, class Row>
struct function_of<Result (*)(const Row&)> {
  using row = Row;
  using result = Result;
};

template <auto Value>
void read_nothing(const row_reader&, size_t, typename function_of<decltype(Value)>::row&) {}

template <auto Value>
void write_derived(const typename function_of<decltype(Value)>::row& row, bound_value& out) {
  bind_value(Value(row), out);
}

} // namespace detail

/// The column `name` of `Row` held by `Member` (declared in `Row` or a base of it): read with the
/// `row_reader` read its type calls for (text, optional text, flag, integer, real, optional
/// integer) and bound from it (a flag as 0 or 1).
template <class Row, auto Member>
constexpr column<Row> col(std::string_view name) {
  using type = typename detail::member_of<decltype(Member)>::type;
  return {name, &detail::read_member<Row, Member>, &detail::write_member<Row, Member>,
          detail::kind_of<type>()};
}

/// The column `name` held by `Member`, of the class that declares it.
template <auto Member>
constexpr column<typename detail::member_of<decltype(Member)>::owner> col(std::string_view name) {
  return col<typename detail::member_of<decltype(Member)>::owner, Member>(name);
}

/// A column stored as `Value(row)` (a count, say) and not read back into the row.
template <auto Value>
constexpr column<typename detail::function_of<decltype(Value)>::row>
derived_col(std::string_view name) {
  using result = typename detail::function_of<decltype(Value)>::result;
  return {name, &detail::read_nothing<Value>, &detail::write_derived<Value>,
          detail::kind_of<result>()};
}

/// The ordered columns of one row type; see `column`.
template <class Row, size_t N>
class column_table {
public:
  constexpr explicit column_table(std::array<column<Row>, N> columns) : columns_(columns) {}

  static constexpr size_t size() { return N; }

  const column<Row>& operator[](size_t index) const { return columns_[index]; }

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

  /// "INSERT INTO `table` (a, b, c) VALUES (:a, :b, :c)".
  std::string insert_sql(std::string_view table) const {
    std::string names;
    std::string placeholders;
    for (const auto& entry : columns_) {
      if (!names.empty()) {
        names += ", ";
        placeholders += ", ";
      }
      names.append(entry.name);
      placeholders.append(":").append(entry.name);
    }
    return "INSERT INTO " + std::string{table} + " (" + names + ") VALUES (" + placeholders + ")";
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

/// An INSERT of every column of a table, prepared once and executed for each row (a batch in
/// one transaction). `columns` must outlive it.
template <class Row, size_t N>
class prepared_insert {
public:
  /// `suffix` follows the VALUES list (an ON CONFLICT clause).
  prepared_insert(soci::session& sql, std::string_view table, const column_table<Row, N>& columns,
                  std::string_view suffix = {})
      : columns_(columns),
        statement_(sql) {
    for (size_t i = 0; i < N; ++i) {
      auto& value = values_[i];
      switch (columns[i].kind) {
      case bound_kind::text:
        statement_.exchange(soci::use(value.text, value.indicator));
        break;
      case bound_kind::integer:
        statement_.exchange(soci::use(value.integer, value.indicator));
        break;
      case bound_kind::real:
        statement_.exchange(soci::use(value.real, value.indicator));
        break;
      }
    }
    statement_.alloc();
    statement_.prepare(columns.insert_sql(table).append(suffix));
    statement_.define_and_bind();
  }

  void execute(const Row& row) {
    for (size_t i = 0; i < N; ++i) {
      columns_[i].write(row, values_[i]);
    }
    statement_.execute(true);
  }

private:
  const column_table<Row, N>& columns_;
  std::array<bound_value, N> values_;
  soci::statement statement_;
};

/// Inserts `row` into `table`, every column of `columns` bound from it; `suffix` as for
/// `prepared_insert`.
template <class Row, size_t N>
void insert_row(soci::session& sql, std::string_view table, const column_table<Row, N>& columns,
                const Row& row, std::string_view suffix = {}) {
  prepared_insert<Row, N>{sql, table, columns, suffix}.execute(row);
}

/// A column_table from its columns, in SELECT order.
template <class Row, class... More>
constexpr auto make_column_table(column<Row> first, More... more) {
  return column_table<Row, 1 + sizeof...(More)>{
    std::array<column<Row>, 1 + sizeof...(More)>{first, more...}};
}

} // namespace cxp::persistence
