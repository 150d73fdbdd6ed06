#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include <soci/soci.h>

namespace cxp::persistence {

/// Runs a query assembled at run time (dynamic filters) with every value of `values` bound in
/// order to its placeholders, and maps each result row with `map(const soci::row&)`. Repositories
/// only. `values` must outlive the call; the caller owns it.
template <class Map>
auto select_rows(soci::session& sql, const std::string& query,
                 const std::vector<std::string>& values, Map&& map) {
  using mapped = std::invoke_result_t<Map&, const soci::row&>;
  soci::statement statement = sql.prepare << query;
  for (const auto& value : values) {
    statement.exchange(soci::use(value));
  }
  soci::row row;
  statement.exchange(soci::into(row));
  statement.define_and_bind();
  statement.execute(false);
  std::vector<mapped> out;
  while (statement.fetch()) {
    out.push_back(map(row));
  }
  return out;
}

/// Runs a statement assembled at run time (an UPDATE or DELETE with dynamic conditions) with every
/// value of `values` bound in order to its placeholders; answers the number of rows it changed.
inline long long execute_bound(soci::session& sql, const std::string& query,
                               const std::vector<std::string>& values) {
  soci::statement statement = sql.prepare << query;
  for (const auto& value : values) {
    statement.exchange(soci::use(value));
  }
  statement.define_and_bind();
  statement.execute(true);
  return statement.get_affected_rows();
}

} // namespace cxp::persistence
