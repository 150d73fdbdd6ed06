#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include <caf/expected.hpp>

#include "common/database_url.hpp"
#include "common/errc.hpp"
#include "persistence/db/sqlite_files.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace soci {
class session;
class connection_pool;
} // namespace soci

namespace cxp::persistence {

namespace detail {
template <class T>
struct expected_value {
  using type = T;
};
template <class T>
struct expected_value<caf::expected<T>> {
  using type = T;
};
template <class T>
using expected_value_t = typename expected_value<T>::type;
} // namespace detail

/// A pool of SOCI sessions to one PostgreSQL or SQLite database. Every call blocks the calling
/// thread: only `db_worker` actors (detached threads), the CLI and tests call it, never an Asio
/// thread or an event-based actor.
class database {
public:
  /// Opens `pool_size` connections (SQLite: WAL, foreign keys, busy timeout). Fails with
  /// `errc::database_unavailable` when the server cannot be reached.
  static caf::expected<std::unique_ptr<database>> open(const database_url& url, size_t pool_size);

  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  database_kind kind() const { return kind_; }

  /// Leases a session, runs `work(session)` and maps SOCI failures to `errc` values: constraint
  /// violations to `conflict`, lost connections to `database_unavailable` (the session is
  /// reconnected on its next lease), anything else to `internal_error`. `work` returns either a
  /// plain value or a `caf::expected`.
  template <class Work>
  auto run(Work&& work)
    -> caf::expected<detail::expected_value_t<std::invoke_result_t<Work, soci::session&>>> {
    using raw = std::invoke_result_t<Work, soci::session&>;
    using value = detail::expected_value_t<raw>;
    caf::expected<value> result{make_error(errc::internal_error)};
    auto status = run_erased([&](soci::session& sql) {
      if constexpr (std::is_void_v<raw>) {
        std::invoke(work, sql);
        result = caf::expected<void>{};
      } else {
        result = std::invoke(work, sql);
      }
    });
    if (!status) {
      return std::move(status.error());
    }
    return result;
  }

  /// Like `run`, inside a transaction: `work(unit_of_work&)` commits it explicitly; anything it
  /// did not commit is rolled back when it returns.
  template <class Work>
  auto transact(Work&& work) {
    return run([&](soci::session& sql) {
      unit_of_work unit{sql};
      return std::invoke(work, unit);
    });
  }

  /// Runs `select 1`; the readiness probe.
  caf::expected<void> ping();

private:
  database(database_kind kind, size_t pool_size);

  caf::expected<void> run_erased(const std::function<void(soci::session&)>& work);
  void prepare_session(soci::session& sql);

  database_kind kind_;
  std::unique_ptr<sqlite_files> files_; ///< SQLite only: storage faults refuse calls
  size_t pool_size_;
  std::string connect_string_;
  std::unique_ptr<soci::connection_pool> pool_;
};

/// The SOCI connection string for `url` (PostgreSQL keyword form or SQLite "db=… timeout=…").
std::string to_connect_string(const database_url& url);

} // namespace cxp::persistence
