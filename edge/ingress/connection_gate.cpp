#include "edge/ingress/connection_gate.hpp"

namespace cxp::edge {

connection_slot::~connection_slot() {
  gate_->leave(peer_);
}

connection_gate::entry connection_gate::enter(const boost::asio::ip::address& peer,
                                              const ingress_rules& rules) {
  const auto address = canonical_address(peer);
  auto key = address.to_string();
  const bool capped_per_peer = !any_contains(rules.trusted_proxies, address);
  std::lock_guard lock{mutex_};
  if (open_ >= rules.max_connections) {
    return {verdict::node_full, nullptr};
  }
  auto& mine = per_peer_[key];
  if (capped_per_peer && mine >= rules.max_connections_per_ip) {
    if (mine == 0) {
      per_peer_.erase(key);
    }
    return {verdict::peer_full, nullptr};
  }
  ++mine;
  ++open_;
  return {verdict::admitted, std::make_shared<connection_slot>(shared_from_this(), std::move(key))};
}

int64_t connection_gate::open() const {
  std::lock_guard lock{mutex_};
  return open_;
}

void connection_gate::leave(const std::string& peer) {
  std::lock_guard lock{mutex_};
  --open_;
  auto it = per_peer_.find(peer);
  if (it != per_peer_.end() && --it->second <= 0) {
    per_peer_.erase(it);
  }
}

} // namespace cxp::edge
