#pragma once

#include <memory>

namespace soci {
class session;
class transaction;
} // namespace soci

namespace cxp::persistence {

/// An open transaction on one leased connection, handed to services by `database::transact` so
/// that several repository writes (and their audit event) commit together. Services only pass it
/// to repositories' `_in` methods; the SQL stays in the repositories. Rolled back on destruction
/// unless `commit` was called. On SQLite it takes the write lock when it begins (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads and then writes fails at once with
/// SQLITE_BUSY when another connection committed in between, where this one waits its turn
/// within the busy timeout.
class unit_of_work {
public:
  explicit unit_of_work(soci::session& sql);
  ~unit_of_work();
  unit_of_work(const unit_of_work&) = delete;
  unit_of_work& operator=(const unit_of_work&) = delete;

  void commit();

  /// For repositories only.
  soci::session& session() { return sql_; }

private:
  soci::session& sql_;
  std::unique_ptr<soci::transaction> transaction_; ///< PostgreSQL's
  bool sqlite_open_ = false;                       ///< SQLite's, begun immediate
};

} // namespace cxp::persistence
