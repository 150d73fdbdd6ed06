#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>

#include "domain/settings/settings_registry.hpp"
#include "edge/ingress/ip_rules.hpp"

namespace cxp::edge {

/// Where a request's client address comes from (`ingress.forwarded_client_ip_source`).
enum class forwarded_source { peer, x_forwarded_for, x_real_ip, forwarded };

/// The body-limit class of a route, decided from the request line alone so the limit applies
/// before the body is read.
enum class body_class {
  pre_auth, ///< reachable without any credential: login, bootstrap, invite acceptance
  admin,    ///< the rest of the operator API
  upload,   ///< multipart file, audio and image uploads
  runtime,  ///< Codex and /v1 turns
};

/// The ingress settings of one settings snapshot, parsed once: every request reads them.
struct ingress_rules {
  std::vector<ip_network> allowlist;
  /// An allowlist entry did not parse: the runtime routes then refuse everyone (fail closed).
  bool allowlist_invalid = false;
  std::vector<ip_network> trusted_proxies;
  forwarded_source source = forwarded_source::x_forwarded_for;
  uint64_t pre_auth_body_bytes = 64u << 10;
  uint64_t admin_body_bytes = 4u << 20;
  uint64_t upload_body_bytes = 25u << 20;
  uint64_t runtime_body_bytes = 32u << 20;
  int64_t max_connections = 10'000;
  int64_t max_connections_per_ip = 512;

  static ingress_rules from(const domain::instance_settings& settings);

  uint64_t body_limit(body_class kind) const;

  /// Whether the firewall lets `client` reach a firewalled route.
  bool admits(const boost::asio::ip::address& client) const;
};

body_class body_class_of(std::string_view path);

/// Whether `path` is behind the firewall: the runtime routes (Codex, /v1, websockets) and /mcp.
/// Health, metrics, the dashboard and the operator API are not (operators must never lock
/// themselves out of the page that edits the allowlist).
bool is_firewalled(std::string_view path);

/// The client address of a request that arrived from `peer`: the peer itself, unless the peer is
/// a trusted proxy; then the configured header is read from the right, skipping trusted proxies,
/// and the first untrusted address is the client. A header that is missing or does not parse
/// leaves the last trusted hop.
boost::asio::ip::address client_address_of(const boost::asio::ip::address& peer,
                                           const boost::beast::http::request_header<>& head,
                                           const ingress_rules& rules);

/// Whether the request reached the client-facing proxy over TLS: only a trusted proxy can say
/// so, with `X-Forwarded-Proto: https` or `Forwarded: proto=https` (the gateway itself serves
/// plain HTTP behind it).
bool forwarded_over_tls(const boost::asio::ip::address& peer,
                        const boost::beast::http::request_header<>& head,
                        const ingress_rules& rules);

} // namespace cxp::edge
