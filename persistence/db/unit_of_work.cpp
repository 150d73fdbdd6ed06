#include "persistence/db/unit_of_work.hpp"

#include <soci/soci.h>

namespace cxp::persistence {

unit_of_work::unit_of_work(soci::session& sql)
    : sql_(sql),
      transaction_(std::make_unique<soci::transaction>(sql)) {}

unit_of_work::~unit_of_work() = default;

void unit_of_work::commit() {
  transaction_->commit();
}

} // namespace cxp::persistence
