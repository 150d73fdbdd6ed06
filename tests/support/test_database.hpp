#pragma once

#include <memory>
#include <string>

#include "common/database_url.hpp"
#include "persistence/db/database.hpp"

namespace cxp::test {

enum class backend { sqlite, postgres };

std::string to_string(backend kind);

/// A fresh database for one test, dropped when the object dies. PostgreSQL databases are cloned
/// from the migrated template that `scripts/test-postgres` prepared (or from `template0` when
/// `migrated` is false); SQLite databases are new files in a temporary directory and are migrated
/// by the helper. Uses only loopback.
class test_database {
public:
  test_database(backend kind, bool migrated = true);
  ~test_database();
  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  backend kind() const { return kind_; }
  /// A DATABASE_URL for child processes.
  const std::string& url() const { return url_; }
  /// An open pool to the database for in-process repositories.
  persistence::database& db();

private:
  backend kind_;
  std::string url_;
  std::string name_;
  std::string directory_;
  std::unique_ptr<persistence::database> db_;
};

/// The URL of the suite's PostgreSQL server (its "postgres" maintenance database).
std::string postgres_server_url();

/// The directory of the suite's PostgreSQL server state (for the outage helpers).
std::string postgres_state_dir();

/// Secrets every gateway started by a test gets (tests never use the generated local ones).
const std::map<std::string, std::string>& test_secrets_env();

} // namespace cxp::test
