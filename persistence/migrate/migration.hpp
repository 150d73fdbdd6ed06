#pragma once

#include <string>
#include <vector>

namespace cxp::persistence {

/// One forward-only migration file, e.g. version "0001", name "create_operators".
struct migration {
  std::string version;
  std::string name;
  std::string sql;
};

/// The migrations compiled into this binary from `migrations/*.sql`, ordered by version.
const std::vector<migration>& embedded_migrations();

/// Splits a migration into statements at every `;` that ends a line (see migrations/README.md).
std::vector<std::string> split_statements(const std::string& sql);

} // namespace cxp::persistence
