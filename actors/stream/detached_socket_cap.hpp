#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cxp::actors {

/// Which cap closed a detached session's upstream socket (a metric label).
enum class detached_cap : uint8_t { api_key, account };

std::string_view to_string(detached_cap cap);

/// The upstream sockets a node keeps for detached websocket sessions (no client attached, no
/// turn running), in least-recently-used order, capped per Pool API key and per upstream
/// account (`gateway.websocket_detached_per_key_limit` / `_per_account_limit`). Plain data, no
/// actors: the stream registry feeds it and closes what it names. Not thread-safe.
class detached_socket_cap {
public:
  struct limits {
    int64_t per_key = 0;
    int64_t per_account = 0;
  };

  /// One socket to close: the stream holding it and the cap it broke.
  struct eviction {
    uint64_t stream = 0;
    detached_cap cap = detached_cap::api_key;
  };

  /// Records `stream` as the most recently detached holder of a socket for `api_key_id` on
  /// `account_id` (replacing an earlier record of it), then evicts the least recently detached
  /// sockets of that key and of that account until both are within `caps`. The evicted streams
  /// are forgotten and returned oldest first (possibly `stream` itself when a limit is 0).
  std::vector<eviction> park(uint64_t stream, const std::string& api_key_id,
                             const std::string& account_id, limits caps);

  /// Forgets `stream` (attached again, socket closed, or gone); unknown streams are ignored.
  void unpark(uint64_t stream);

  size_t size() const { return order_.size(); }
  size_t count_for_key(const std::string& api_key_id) const;
  size_t count_for_account(const std::string& account_id) const;

private:
  struct entry {
    uint64_t stream = 0;
    std::string api_key_id;
    std::string account_id;
  };

  void erase(std::list<entry>::iterator it);
  /// Evicts the oldest entries whose `field` equals `value` while more than `limit` remain.
  void trim(std::string entry::*field, const std::string& value, int64_t limit, detached_cap cap,
            std::vector<eviction>& out);

  std::list<entry> order_; ///< oldest first
  std::unordered_map<uint64_t, std::list<entry>::iterator> by_stream_;
  std::unordered_map<std::string, size_t> per_key_;
  std::unordered_map<std::string, size_t> per_account_;
};

} // namespace cxp::actors
