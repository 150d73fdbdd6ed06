#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "persistence/db/database.hpp"

namespace cxp::persistence {

/// The one scheduler lease of the cluster: who holds it, in which epoch, until when. The epoch
/// grows each time the lease changes hands (or lapses and is taken again), so a scheduled
/// enqueue fenced with (holder, epoch) fails once its node lost the lease.
struct scheduler_lease_row {
  std::string holder_node_id;
  int64_t epoch = 0;
  std::string expires_at;
};

/// All SQL on `scheduler_leases`. Times are the caller's clock. Blocking: db workers only.
class scheduler_lease_repository {
public:
  explicit scheduler_lease_repository(database& db) : db_(db) {}

  /// Renews the lease when `node_id` holds it and it is live, takes it when it is free or
  /// expired (a new epoch), and leaves another node's live lease alone. Either way answers the
  /// lease as it stands afterwards; `node_id` leads when it is the holder.
  caf::expected<scheduler_lease_row> acquire(const std::string& node_id, time_point now,
                                             std::chrono::milliseconds ttl);

  /// Lets the lease expire now when `node_id` still holds it in `epoch` (a draining node), so a
  /// standby takes over at its next attempt. False when it was not held.
  caf::expected<bool> release(const std::string& node_id, int64_t epoch, time_point now);

  caf::expected<std::optional<scheduler_lease_row>> current();

private:
  database& db_;
};

} // namespace cxp::persistence
