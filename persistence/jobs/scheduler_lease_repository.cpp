#include "persistence/jobs/scheduler_lease_repository.hpp"

#include <soci/soci.h>

#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

namespace {

std::optional<scheduler_lease_row> read_lease(soci::session& sql) {
  std::optional<scheduler_lease_row> out;
  soci::rowset<soci::row> rows = sql.prepare << "SELECT holder_node_id, epoch, expires_at FROM "
                                                "scheduler_leases WHERE name = 'scheduler'";
  for (const auto& row : rows) {
    row_reader r{row};
    out = scheduler_lease_row{r.text(0), r.int64(1), r.text(2)};
  }
  return out;
}

} // namespace

caf::expected<scheduler_lease_row>
scheduler_lease_repository::acquire(const std::string& node_id, time_point now,
                                    std::chrono::milliseconds ttl) {
  const auto at = to_iso8601(now);
  const auto expires = to_iso8601(now + ttl);
  return db_.transact([&](unit_of_work& work) -> caf::expected<scheduler_lease_row> {
    auto& sql = work.session();
    // One upsert decides: the holder's live lease is renewed in its epoch; a free or expired one
    // goes to the caller in the next epoch (its own lapsed lease too: whatever it did in the old
    // epoch may have overlapped a successor's); another node's live lease is left untouched.
    sql << "INSERT INTO scheduler_leases (name, holder_node_id, epoch, acquired_at, expires_at) "
           "VALUES ('scheduler', :node, 1, :at, :expires) "
           "ON CONFLICT (name) DO UPDATE SET "
           "epoch = CASE WHEN scheduler_leases.holder_node_id = excluded.holder_node_id AND "
           "scheduler_leases.expires_at > :live THEN scheduler_leases.epoch "
           "ELSE scheduler_leases.epoch + 1 END, "
           "acquired_at = CASE WHEN scheduler_leases.holder_node_id = excluded.holder_node_id AND "
           "scheduler_leases.expires_at > :live2 THEN scheduler_leases.acquired_at "
           "ELSE excluded.acquired_at END, "
           "holder_node_id = excluded.holder_node_id, expires_at = excluded.expires_at "
           "WHERE scheduler_leases.holder_node_id = excluded.holder_node_id "
           "OR scheduler_leases.expires_at <= :free",
      soci::use(node_id), soci::use(at), soci::use(expires), soci::use(at), soci::use(at),
      soci::use(at);
    auto lease = read_lease(sql);
    if (!lease) {
      return make_error(errc::internal_error, "the scheduler lease row is missing");
    }
    work.commit();
    return *lease;
  });
}

caf::expected<bool> scheduler_lease_repository::release(const std::string& node_id, int64_t epoch,
                                                        time_point now) {
  const auto at = to_iso8601(now);
  const long long held_epoch = epoch;
  return db_.run([&](soci::session& sql) {
    soci::statement update =
      (sql.prepare << "UPDATE scheduler_leases SET expires_at = :at WHERE name = 'scheduler' AND "
                      "holder_node_id = :node AND epoch = :epoch AND expires_at > :now",
       soci::use(at), soci::use(node_id), soci::use(held_epoch), soci::use(at));
    update.execute(true);
    return update.get_affected_rows() == 1;
  });
}

caf::expected<std::optional<scheduler_lease_row>> scheduler_lease_repository::current() {
  return db_.run([](soci::session& sql) { return read_lease(sql); });
}

} // namespace cxp::persistence
