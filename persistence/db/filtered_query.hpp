#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cxp::persistence {

/// A SELECT whose WHERE clause grows with the filters that are set, for `select_rows`: each value
/// gets the next placeholder (:p0, :p1, …) and is bound in the order it was added, which is the
/// order it appears in the text. Repositories only.
class filtered_query {
public:
  /// `select` is everything before WHERE ("SELECT … FROM t").
  explicit filtered_query(std::string select) : sql_(std::move(select) + " WHERE 1 = 1") {}

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

  /// Keyset pagination over (`created_column`, `id_column`): rows strictly after the given pair.
  void where_after(std::string_view created_column, std::string_view id_column,
                   const std::string& created_at, const std::string& id) {
    const auto after = bind(created_at);
    const auto same = bind(created_at);
    const auto after_id = bind(id);
    sql_.append(" AND (").append(created_column).append(" > ").append(after);
    sql_.append(" OR (").append(created_column).append(" = ").append(same);
    sql_.append(" AND ").append(id_column).append(" > ").append(after_id).append("))");
  }

  const std::string& sql() const { return sql_; }
  const std::vector<std::string>& values() const { return values_; }

private:
  std::string sql_;
  std::vector<std::string> values_;
};

} // namespace cxp::persistence
