#include "persistence/db/unit_of_work.hpp"

#include <soci/soci.h>

namespace cxp::persistence {

unit_of_work::unit_of_work(soci::session& sql) : sql_(sql) {
  if (sql.get_backend_name() == "sqlite3") {
    sql << "BEGIN IMMEDIATE";
    sqlite_open_ = true;
  } else {
    transaction_ = std::make_unique<soci::transaction>(sql);
  }
}

unit_of_work::~unit_of_work() {
  if (sqlite_open_) {
    try {
      sql_ << "ROLLBACK";
    } catch (const soci::soci_error&) {
      // The connection is gone or the transaction already ended: nothing is left to undo.
    }
  }
}

void unit_of_work::commit() {
  if (sqlite_open_) {
    sql_ << "COMMIT";
    sqlite_open_ = false;
  } else {
    transaction_->commit();
  }
}

} // namespace cxp::persistence
