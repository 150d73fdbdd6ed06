#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "actors/pool/routing_messages.hpp"

namespace cxp::edge {

/// The pool actors turns lease from, by pool id, so a lease is one ask of the pool instead of a
/// hop through the runtime directory. Learned from the directory (`pool_handle_request`); a
/// handle whose pool died or was removed is forgotten when an ask of it fails, and that turn
/// leases through the directory, which knows the pool's successor or that there is none. Shared
/// by the Asio and CAF threads that run turns, hence the mutex (held for a map lookup).
class pool_handles {
public:
  std::optional<actors::lease_source_actor> find(const std::string& pool_id) {
    std::lock_guard lock{mutex_};
    auto known = handles_.find(pool_id);
    return known == handles_.end() ? std::nullopt : std::optional{known->second};
  }

  void put(const std::string& pool_id, actors::lease_source_actor pool) {
    std::lock_guard lock{mutex_};
    handles_[pool_id] = std::move(pool);
  }

  /// Forgets `pool` for `pool_id`, unless a newer handle replaced it meanwhile.
  void forget(const std::string& pool_id, const actors::lease_source_actor& pool) {
    std::lock_guard lock{mutex_};
    if (auto known = handles_.find(pool_id); known != handles_.end() && known->second == pool) {
      handles_.erase(known);
    }
  }

private:
  std::mutex mutex_;
  std::unordered_map<std::string, actors::lease_source_actor> handles_;
};

} // namespace cxp::edge
