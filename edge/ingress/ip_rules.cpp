#include "edge/ingress/ip_rules.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace cxp::edge {

namespace {

namespace ip = boost::asio::ip;

template <class Bytes>
bool prefix_matches(const Bytes& a, const Bytes& b, unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (!std::equal(a.begin(), a.begin() + whole, b.begin())) {
    return false;
  }
  const unsigned rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

} // namespace

ip::address canonical_address(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::optional<ip_network> ip_network::parse(std::string_view text) {
  const auto slash = text.find('/');
  boost::system::error_code ec;
  const auto address = ip::make_address(std::string{text.substr(0, slash)}, ec);
  if (ec) {
    return std::nullopt;
  }
  const auto base = canonical_address(address);
  const unsigned width = base.is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty()
        || prefix > width) {
      return std::nullopt;
    }
  }
  return ip_network{base, prefix};
}

bool ip_network::contains(const ip::address& address) const {
  const auto candidate = canonical_address(address);
  if (candidate.is_v4() != base_.is_v4()) {
    return false;
  }
  if (candidate.is_v4()) {
    return prefix_matches(candidate.to_v4().to_bytes(), base_.to_v4().to_bytes(), prefix_);
  }
  return prefix_matches(candidate.to_v6().to_bytes(), base_.to_v6().to_bytes(), prefix_);
}

bool any_contains(const std::vector<ip_network>& networks, const ip::address& address) {
  return std::any_of(networks.begin(), networks.end(),
                     [&](const ip_network& network) { return network.contains(address); });
}

} // namespace cxp::edge
