#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.hpp"

namespace cxp::persistence {

/// A statement whose WHERE clause grows with the filters that are set, for `select_rows` and
/// `execute_bound`: each value gets the next placeholder (:p0, :p1, …) and is bound in the order
/// it was added, which is the order it appears in the text. Repositories only.
class filtered_query {
public:
  /// `head` is everything before WHERE ("SELECT … FROM t", or an UPDATE whose SET binds its
  /// values first, in order, with `bind`).
  explicit filtered_query(std::string head) : sql_(std::move(head) + " WHERE 1 = 1") {}

  /// A placeholder bound to `value`.
  std::string bind(const std::string& value) {
    values_.push_back(value);
    return ":p" + std::to_string(values_.size() - 1);
  }

  /// Appends `text` (a condition with placeholders from `bind`, or ORDER BY / LIMIT).
  void append(std::string_view text) { sql_.append(text); }

  /// " AND `column` = value".
  void where_equal(std::string_view column, const std::string& value) {
    const auto placeholder = bind(value);
    sql_.append(" AND ").append(column).append(" = ").append(placeholder);
  }

  /// " AND `column` IN (values…)". False when `values` is empty: the query then matches nothing
  /// and callers answer an empty result without running it.
  bool where_in(std::string_view column, const std::vector<std::string>& values) {
    if (values.empty()) {
      return false;
    }
    sql_.append(" AND ").append(column).append(" IN (");
    for (size_t i = 0; i < values.size(); ++i) {
      const auto placeholder = bind(values[i]);
      sql_.append(i ? ", " : "").append(placeholder);
    }
    sql_.append(")");
    return true;
  }

  /// " AND (a LIKE … OR b LIKE …)": rows where any of `columns` (lower-cased SQL expressions)
  /// contains `term`, compared in ASCII lower case (as SQLite's lower()), its LIKE wildcards taken
  /// literally.
  void where_contains(std::initializer_list<std::string_view> columns, std::string_view term) {
    std::string pattern = "%";
    for (const char c : ascii_lowercase(term)) {
      if (c == '%' || c == '_' || c == '!') {
        pattern += '!';
      }
      pattern += c;
    }
    pattern += '%';
    const char* separator = " AND (";
    for (const auto column : columns) {
      const auto placeholder = bind(pattern);
      sql_.append(separator).append(column).append(" LIKE ").append(placeholder);
      sql_.append(" ESCAPE '!'");
      separator = " OR ";
    }
    sql_.append(")");
  }

  /// Keyset pagination over (`created_column`, `id_column`): rows strictly after the given pair.
  void where_after(std::string_view created_column, std::string_view id_column,
                   const std::string& created_at, const std::string& id) {
    where_beyond(created_column, id_column, created_at, id, " > ");
  }

  /// Keyset pagination in descending order: rows strictly before the given pair.
  void where_before(std::string_view created_column, std::string_view id_column,
                    const std::string& created_at, const std::string& id) {
    where_beyond(created_column, id_column, created_at, id, " < ");
  }

  const std::string& sql() const { return sql_; }
  const std::vector<std::string>& values() const { return values_; }

private:
  void where_beyond(std::string_view created_column, std::string_view id_column,
                    const std::string& created_at, const std::string& id,
                    std::string_view comparison) {
    const auto beyond = bind(created_at);
    const auto same = bind(created_at);
    const auto beyond_id = bind(id);
    sql_.append(" AND (").append(created_column).append(comparison).append(beyond);
    sql_.append(" OR (").append(created_column).append(" = ").append(same);
    sql_.append(" AND ").append(id_column).append(comparison).append(beyond_id).append("))");
  }

  std::string sql_;
  std::vector<std::string> values_;
};

} // namespace cxp::persistence
