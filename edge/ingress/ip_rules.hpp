#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace cxp::edge {

/// An IPv4 or IPv6 network ("10.0.0.0/8", "2001:db8::/32") or a single address ("127.0.0.1").
class ip_network {
public:
  /// Parses `text`; nullopt for anything that is not an address with an optional valid prefix.
  static std::optional<ip_network> parse(std::string_view text);

  /// Whether `address` lies in the network. An IPv4-mapped IPv6 address matches as IPv4.
  bool contains(const boost::asio::ip::address& address) const;

private:
  ip_network(boost::asio::ip::address base, unsigned prefix) : base_(base), prefix_(prefix) {}

  boost::asio::ip::address base_;
  unsigned prefix_;
};

/// `address` with an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") turned into IPv4.
boost::asio::ip::address canonical_address(const boost::asio::ip::address& address);

/// Whether any of `networks` contains `address`.
bool any_contains(const std::vector<ip_network>& networks, const boost::asio::ip::address& address);

} // namespace cxp::edge
