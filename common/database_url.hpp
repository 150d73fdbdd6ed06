#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "common/secret.hpp"

namespace cxp {

enum class database_kind { sqlite, postgres };

/// A parsed `DATABASE_URL`: `sqlite:///abs/path`, `sqlite://relative/path`, or
/// `postgres[ql]://user:password@host:port/dbname?key=value`.
struct database_url {
  database_kind kind = database_kind::sqlite;
  /// SQLite: the file path.
  std::string path;
  /// PostgreSQL: the parts of the URL (password kept as a secret).
  std::string host;
  uint16_t port = 5432;
  std::string user;
  secret<std::string> password;
  std::string dbname;
  /// Query parameters passed through to libpq, e.g. sslmode=require.
  std::string options;

  /// The URL with the password replaced by "***", safe for logs.
  std::string redacted() const;
};

/// Parses a `DATABASE_URL`; the error context says what is wrong without echoing a password.
caf::expected<database_url> parse_database_url(std::string_view text);

} // namespace cxp
