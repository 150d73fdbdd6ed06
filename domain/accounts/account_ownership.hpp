#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "persistence/cluster_nodes/cluster_node_repository.hpp"

namespace cxp::domain {

/// Roles whose nodes may own upstream accounts (refresh, usage probes, catalog sync): `all`,
/// `worker` and `scheduler`. A `web` node only serves traffic and keeps replicas.
bool role_may_own_accounts(std::string_view role);

/// The nodes that may own accounts now: a role that may own, status `up`, and a heartbeat no
/// older than `liveness`. `self` (this node, when its role may own) is always included, even
/// before its first heartbeat is recorded. Sorted, without duplicates.
std::vector<std::string> owner_candidates(const std::vector<persistence::cluster_node_row>& nodes,
                                          time_point now, std::chrono::milliseconds liveness,
                                          const std::optional<std::string>& self);

/// The owner of `account_id` among `candidates` by rendezvous (highest random weight) hashing:
/// every node computes the same answer from the same list, and a node joining or leaving moves
/// only the accounts it wins or held. `nullopt` when there is no candidate.
std::optional<std::string> rendezvous_owner(const std::string& account_id,
                                            const std::vector<std::string>& candidates);

/// The accounts of `account_ids` that `node_id` should own among `candidates`.
std::set<std::string> accounts_owned_by(const std::string& node_id,
                                        const std::set<std::string>& account_ids,
                                        const std::vector<std::string>& candidates);

} // namespace cxp::domain
