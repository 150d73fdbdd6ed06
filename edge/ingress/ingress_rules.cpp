#include "edge/ingress/ingress_rules.hpp"

#include <algorithm>
#include <cctype>

#include "common/encoding.hpp"
#include "common/log.hpp"

namespace cxp::edge {

namespace {

namespace ip = boost::asio::ip;
namespace http = boost::beast::http;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

/// The address inside one `Forwarded` element's `for=` or one X-Forwarded-For entry: quotes,
/// brackets and a port removed.
std::optional<ip::address> parse_hop(std::string_view hop) {
  hop = trim(hop);
  if (!hop.empty() && hop.front() == '"' && hop.size() >= 2 && hop.back() == '"') {
    hop = hop.substr(1, hop.size() - 2);
  }
  if (!hop.empty() && hop.front() == '[') {
    const auto close = hop.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    hop = hop.substr(1, close - 1);
  } else if (std::count(hop.begin(), hop.end(), ':') == 1) {
    hop = hop.substr(0, hop.find(':'));
  }
  boost::system::error_code ec;
  auto address = ip::make_address(std::string{hop}, ec);
  if (ec) {
    return std::nullopt;
  }
  return canonical_address(address);
}

template <class Name, class Visit>
void each_value(const http::request_header<>& head, Name name, Visit visit) {
  auto [first, last] = head.equal_range(name);
  for (; first != last; ++first) {
    visit(std::string_view{first->value().data(), first->value().size()});
  }
}

/// The hops a header lists, nearest client first (as the header is written).
std::vector<std::string_view> hops_of(const http::request_header<>& head, forwarded_source source) {
  std::vector<std::string_view> hops;
  auto split = [&](std::string_view list) {
    size_t start = 0;
    while (start <= list.size()) {
      auto end = list.find(',', start);
      end = end == std::string_view::npos ? list.size() : end;
      hops.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  };
  switch (source) {
  case forwarded_source::peer:
    break;
  case forwarded_source::x_real_ip:
    each_value(head, "x-real-ip", [&](std::string_view value) { hops.push_back(value); });
    break;
  case forwarded_source::x_forwarded_for:
    each_value(head, "x-forwarded-for", split);
    break;
  case forwarded_source::forwarded:
    each_value(head, http::field::forwarded, [&](std::string_view value) {
      size_t start = 0;
      while (start <= value.size()) {
        auto end = value.find(',', start);
        end = end == std::string_view::npos ? value.size() : end;
        auto element = value.substr(start, end - start);
        std::string_view found;
        size_t pair_start = 0;
        while (pair_start <= element.size()) {
          auto pair_end = element.find(';', pair_start);
          pair_end = pair_end == std::string_view::npos ? element.size() : pair_end;
          auto pair = trim(element.substr(pair_start, pair_end - pair_start));
          if (pair.size() > 4
              && (starts_with(pair, "for=") || starts_with(pair, "For=")
                  || starts_with(pair, "FOR="))) {
            found = pair.substr(4);
          }
          pair_start = pair_end + 1;
        }
        hops.push_back(found);
        start = end + 1;
      }
    });
    break;
  }
  return hops;
}

forwarded_source source_named(const std::string& name) {
  if (name == "peer") {
    return forwarded_source::peer;
  }
  if (name == "x_real_ip") {
    return forwarded_source::x_real_ip;
  }
  if (name == "forwarded") {
    return forwarded_source::forwarded;
  }
  return forwarded_source::x_forwarded_for;
}

} // namespace

ingress_rules ingress_rules::from(const domain::instance_settings& settings) {
  const auto& ingress = settings.ingress();
  ingress_rules rules;
  for (const auto& entry : ingress.firewall_allowlist) {
    if (auto network = ip_network::parse(entry)) {
      rules.allowlist.push_back(*network);
    } else {
      rules.allowlist_invalid = true;
      log::error("ingress", "invalid firewall allowlist entry: runtime routes refuse everyone",
                 {{"entry_length", entry.size()}});
    }
  }
  for (const auto& entry : ingress.trusted_proxies) {
    if (auto network = ip_network::parse(entry)) {
      rules.trusted_proxies.push_back(*network);
    } else {
      log::error("ingress", "invalid trusted proxy entry ignored",
                 {{"entry_length", entry.size()}});
    }
  }
  rules.source = source_named(ingress.forwarded_client_ip_source);
  rules.pre_auth_body_bytes = ingress.max_pre_auth_body_bytes;
  rules.admin_body_bytes = ingress.max_admin_body_bytes;
  rules.runtime_body_bytes = ingress.max_body_bytes;
  // A multipart envelope around the largest file or audio the settings allow.
  constexpr uint64_t multipart_overhead = 64u << 10;
  rules.upload_body_bytes =
    std::max(ingress.max_file_bytes, ingress.max_transcription_bytes) + multipart_overhead;
  rules.max_connections = ingress.max_connections;
  rules.max_connections_per_ip = ingress.max_connections_per_ip;
  return rules;
}

uint64_t ingress_rules::body_limit(body_class kind) const {
  switch (kind) {
  case body_class::pre_auth:
    return pre_auth_body_bytes;
  case body_class::admin:
    return admin_body_bytes;
  case body_class::upload:
    return upload_body_bytes;
  case body_class::runtime:
    return runtime_body_bytes;
  }
  return pre_auth_body_bytes;
}

bool ingress_rules::admits(const ip::address& client) const {
  if (allowlist_invalid) {
    return false;
  }
  return allowlist.empty() || any_contains(allowlist, client);
}

body_class body_class_of(std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (path == "/admin/api/session" || path == "/bootstrap" || path == "/admin/api/invites/accept") {
    return body_class::pre_auth;
  }
  if (starts_with(path, "/admin/") || path == "/session" || starts_with(path, "/bootstrap")) {
    return body_class::admin;
  }
  if (path == "/v1/files" || path == "/v1/audio/transcriptions" || path == "/v1/images/edits"
      || starts_with(path, "/backend-api/files")) {
    return body_class::upload;
  }
  if (starts_with(path, "/backend-api/") || starts_with(path, "/v1/") || starts_with(path, "/api/")
      || starts_with(path, "/wham/")) {
    return body_class::runtime;
  }
  return body_class::pre_auth;
}

bool is_firewalled(std::string_view path) {
  path = path.substr(0, path.find('?'));
  return starts_with(path, "/backend-api/") || starts_with(path, "/v1/") || path == "/v1"
         || starts_with(path, "/api/codex") || starts_with(path, "/wham/") || path == "/mcp"
         || starts_with(path, "/mcp/");
}

ip::address client_address_of(const ip::address& peer, const http::request_header<>& head,
                              const ingress_rules& rules) {
  auto client = canonical_address(peer);
  if (rules.source == forwarded_source::peer || !any_contains(rules.trusted_proxies, client)) {
    return client;
  }
  auto hops = hops_of(head, rules.source);
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    auto address = parse_hop(*hop);
    if (!address) {
      return client;
    }
    client = *address;
    if (!any_contains(rules.trusted_proxies, client)) {
      return client;
    }
  }
  return client;
}

bool forwarded_over_tls(const ip::address& peer, const http::request_header<>& head,
                        const ingress_rules& rules) {
  if (!any_contains(rules.trusted_proxies, canonical_address(peer))) {
    return false;
  }
  bool https = false;
  each_value(head, "x-forwarded-proto", [&](std::string_view value) {
    https = https || ascii_lowercase(trim(value.substr(0, value.find(',')))) == "https";
  });
  each_value(head, http::field::forwarded, [&](std::string_view value) {
    https = https || ascii_lowercase(value).find("proto=https") != std::string::npos;
  });
  return https;
}

} // namespace cxp::edge
