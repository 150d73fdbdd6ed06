#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

#include "edge/ingress/ingress_rules.hpp"

namespace cxp::edge {

class connection_gate;

/// One open client connection's place; released when the last copy is dropped (the HTTP
/// session, or the websocket session the connection was upgraded into).
class connection_slot {
public:
  connection_slot(std::shared_ptr<connection_gate> gate, std::string peer)
      : gate_(std::move(gate)),
        peer_(std::move(peer)) {}
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
  ~connection_slot();

private:
  std::shared_ptr<connection_gate> gate_;
  std::string peer_;
};

/// Counts the node's open client connections, in all and per peer address, against
/// `ingress.max_connections` and `ingress.max_connections_per_ip`. Trusted proxies are exempt
/// from the per-address cap (every client behind them shares their address). Shared by the
/// acceptor and every session, hence the mutex (held for a map update).
class connection_gate : public std::enable_shared_from_this<connection_gate> {
public:
  enum class verdict { admitted, node_full, peer_full };

  struct entry {
    verdict outcome = verdict::admitted;
    std::shared_ptr<connection_slot> slot; ///< set when admitted
  };

  entry enter(const boost::asio::ip::address& peer, const ingress_rules& rules);

  int64_t open() const;

private:
  friend class connection_slot;
  void leave(const std::string& peer);

  mutable std::mutex mutex_;
  int64_t open_ = 0;
  std::unordered_map<std::string, int64_t> per_peer_;
};

} // namespace cxp::edge
