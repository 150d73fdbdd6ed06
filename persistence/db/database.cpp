#include "persistence/db/database.hpp"

#include <filesystem>
#include <mutex>

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cxp::persistence {

namespace {

constexpr int lease_timeout_ms = 5'000;
constexpr int sqlite_busy_timeout_seconds = 10;
constexpr int postgres_connect_timeout_seconds = 2;
constexpr int sqlite_constraint = 19; // SQLITE_CONSTRAINT

std::string quote_libpq(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out + "'";
}

bool is_constraint_violation(const soci::soci_error& error) {
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    return pg->sqlstate().rfind("23", 0) == 0;
  }
  if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
    return (lite->result() & 0xff) == sqlite_constraint;
  }
  return error.get_error_category() == soci::soci_error::constraint_violation;
}

/// SQLite could not read or write its files (busy past the timeout, locked, read-only, I/O
/// error, disk full, cannot open): the database is unavailable, not the request wrong.
bool is_storage_error(const soci::soci_error& error) {
  auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&error);
  if (lite == nullptr) {
    return false;
  }
  switch (lite->result() & 0xff) {
  case 5:  // SQLITE_BUSY
  case 6:  // SQLITE_LOCKED
  case 8:  // SQLITE_READONLY
  case 10: // SQLITE_IOERR
  case 13: // SQLITE_FULL
  case 14: // SQLITE_CANTOPEN
    return true;
  default:
    return false;
  }
}

} // namespace

std::string to_connect_string(const database_url& url) {
  // Appended piece by piece: GCC 12 at -O3 reports a false -Werror=restrict inside chains of
  // `"literal" + std::string` temporaries (the Release build of the image).
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (!out.empty()) {
      out += ' ';
    }
    out.append(key).append("=").append(value);
  };
  if (url.kind == database_kind::sqlite) {
    add("db", url.path);
    add("timeout", std::to_string(sqlite_busy_timeout_seconds));
    return out;
  }
  add("host", quote_libpq(url.host));
  add("port", std::to_string(url.port));
  add("dbname", quote_libpq(url.dbname));
  add("connect_timeout", std::to_string(postgres_connect_timeout_seconds));
  if (!url.user.empty()) {
    add("user", quote_libpq(url.user));
  }
  if (!url.password.empty()) {
    add("password", quote_libpq(url.password.expose()));
  }
  size_t start = 0;
  while (start < url.options.size()) {
    auto end = url.options.find('&', start);
    if (end == std::string::npos) {
      end = url.options.size();
    }
    const auto pair = std::string_view{url.options}.substr(start, end - start);
    if (auto eq = pair.find('='); eq != std::string_view::npos) {
      add(pair.substr(0, eq), quote_libpq(std::string{pair.substr(eq + 1)}));
    }
    start = end + 1;
  }
  return out;
}

namespace {

constexpr mode_t owner_only_file = 0600;

/// The SQLite file holds password hashes and encrypted tokens: it, its WAL and shared-memory
/// files (SQLite gives them the database file's mode) are the service user's alone, and a data
/// directory we create is too. An existing directory is left as the operator made it.
void make_private_sqlite_file(const std::string& path) {
  const auto parent = std::filesystem::path{path}.parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    std::filesystem::permissions(parent, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (path.empty() || path == ":memory:") {
    return;
  }
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, owner_only_file);
  if (fd >= 0) {
    ::close(fd);
  }
  for (const auto* suffix : {"", "-wal", "-shm", "-journal"}) {
    const auto file = path + suffix;
    if (std::filesystem::exists(file, ec)) {
      ::chmod(file.c_str(), owner_only_file);
    }
  }
}

/// Runs before the process's first SQLite connection. A connection here serves one thread at a
/// time (it is leased from the pool), so SQLite's own per-connection mutexes only cost, and its
/// allocation statistics take a process-wide mutex on every malloc: the request-log writer paid
/// for both on every row. When SQLite was already initialised (a test opened it first) the
/// calls fail harmlessly and the safe defaults stay.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

} // namespace

database::database(database_kind kind, size_t pool_size)
    : kind_(kind),
      pool_size_(pool_size),
      pool_(std::make_unique<soci::connection_pool>(pool_size)) {}

database::~database() = default;

caf::expected<std::unique_ptr<database>> database::open(const database_url& url, size_t pool_size) {
  std::unique_ptr<database> db{new database(url.kind, pool_size)};
  db->connect_string_ = to_connect_string(url);
  if (url.kind == database_kind::sqlite) {
    make_private_sqlite_file(url.path);
    db->files_ = std::make_unique<sqlite_files>(url.path);
    install_shm_fault_rescue();
    configure_sqlite_once();
  }
  const auto& backend =
    url.kind == database_kind::sqlite ? *soci::factory_sqlite3() : *soci::factory_postgresql();
  try {
    for (size_t i = 0; i < pool_size; ++i) {
      auto& sql = db->pool_->at(i);
      sql.open(backend, db->connect_string_);
      db->prepare_session(sql);
    }
  } catch (const std::exception& e) {
    return make_error(errc::database_unavailable,
                      std::string{"cannot open "} + url.redacted() + ": " + e.what());
  }
  return db;
}

void database::prepare_session(soci::session& sql) {
  if (kind_ == database_kind::sqlite) {
    sql << "PRAGMA journal_mode = WAL";
    sql << "PRAGMA foreign_keys = ON";
    sql << "PRAGMA synchronous = NORMAL";
  } else {
    sql << "SET TIME ZONE 'UTC'";
  }
}

caf::expected<void> database::run_erased(const std::function<void(soci::session&)>& work) {
  if (files_) {
    if (auto fault = files_->fault()) {
      return make_error(errc::database_unavailable, "storage fault: " + *fault);
    }
  }
  size_t position = 0;
  if (!pool_->try_lease(position, lease_timeout_ms)) {
    return make_error(errc::database_unavailable,
                      "no database connection free within the lease timeout");
  }
  auto& sql = pool_->at(position);
  caf::expected<void> outcome{};
  try {
    if (!sql.is_connected()) {
      sql.reconnect();
      prepare_session(sql);
    }
    work(sql);
  } catch (const soci::soci_error& e) {
    if (is_constraint_violation(e)) {
      outcome = make_error(errc::conflict, e.get_error_message());
    } else if (!sql.is_connected() || is_storage_error(e)) {
      outcome = make_error(errc::database_unavailable, e.get_error_message());
    } else {
      outcome = make_error(errc::internal_error, e.what());
    }
  } catch (const std::exception& e) {
    outcome = make_error(errc::internal_error, e.what());
  }
  pool_->give_back(position);
  return outcome;
}

caf::expected<void> database::ping() {
  return run([](soci::session& sql) {
    int one = 0;
    sql << "SELECT 1", soci::into(one);
  });
}

} // namespace cxp::persistence
