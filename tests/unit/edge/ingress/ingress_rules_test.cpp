#include "edge/ingress/ingress_rules.hpp"

#include <catch2/catch.hpp>

#include "edge/ingress/connection_gate.hpp"
#include "edge/ingress/http_framing.hpp"

using namespace cxp;
using namespace cxp::edge;
namespace http = boost::beast::http;
using boost::asio::ip::make_address;

namespace {

ingress_rules rules_from(std::map<std::string, std::string> stored) {
  return ingress_rules::from(domain::instance_settings::from_stored(stored));
}

http::request_header<> head_with(std::vector<std::pair<std::string, std::string>> fields,
                                 unsigned version = 11) {
  http::request_header<> head;
  head.version(version);
  head.method(http::verb::post);
  head.target("/v1/responses");
  for (const auto& [name, value] : fields) {
    head.insert(name, value);
  }
  return head;
}

} // namespace

TEST_CASE("ip networks match IPv4, IPv6 and mapped addresses by prefix", "[ingress]") {
  auto ten = ip_network::parse("10.0.0.0/8");
  REQUIRE(ten);
  CHECK(ten->contains(make_address("10.200.1.1")));
  CHECK(ten->contains(make_address("::ffff:10.1.2.3")));
  CHECK_FALSE(ten->contains(make_address("11.0.0.1")));
  CHECK_FALSE(ten->contains(make_address("::1")));
  auto odd = ip_network::parse("192.168.1.128/25");
  REQUIRE(odd);
  CHECK(odd->contains(make_address("192.168.1.200")));
  CHECK_FALSE(odd->contains(make_address("192.168.1.100")));
  auto v6 = ip_network::parse("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains(make_address("2001:db8:1::7")));
  CHECK_FALSE(v6->contains(make_address("2001:db9::1")));
  auto single = ip_network::parse("127.0.0.1");
  REQUIRE(single);
  CHECK(single->contains(make_address("127.0.0.1")));
  CHECK_FALSE(single->contains(make_address("127.0.0.2")));
  for (const auto* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "example.com", "::/129", "1/x"}) {
    CAPTURE(bad);
    CHECK_FALSE(ip_network::parse(bad));
  }
}

TEST_CASE("the client address comes from a header only through trusted proxies", "[ingress]") {
  auto trusted = rules_from({{"ingress.trusted_proxies", R"(["127.0.0.1","10.9.0.0/16"])"}});
  auto head = head_with({{"x-forwarded-for", "203.0.113.7, 198.51.100.2, 10.9.3.4"}});
  CHECK(client_address_of(make_address("127.0.0.1"), head, trusted).to_string() == "198.51.100.2");
  // An untrusted peer's header is ignored: anyone can write one.
  CHECK(client_address_of(make_address("192.0.2.1"), head, trusted).to_string() == "192.0.2.1");
  auto untrusted = rules_from({});
  CHECK(client_address_of(make_address("127.0.0.1"), head, untrusted).to_string() == "127.0.0.1");
  // A garbled hop stops the walk at the last trusted address.
  auto garbled = head_with({{"x-forwarded-for", "not-an-ip, 10.9.3.4"}});
  CHECK(client_address_of(make_address("127.0.0.1"), garbled, trusted).to_string() == "10.9.3.4");

  auto real_ip = rules_from({{"ingress.trusted_proxies", R"(["127.0.0.1"])"},
                             {"ingress.forwarded_client_ip_source", R"("x_real_ip")"}});
  CHECK(client_address_of(make_address("127.0.0.1"), head_with({{"x-real-ip", "198.51.100.9"}}),
                          real_ip)
          .to_string()
        == "198.51.100.9");
  auto forwarded = rules_from({{"ingress.trusted_proxies", R"(["127.0.0.1"])"},
                               {"ingress.forwarded_client_ip_source", R"("forwarded")"}});
  CHECK(client_address_of(
          make_address("127.0.0.1"),
          head_with({{"forwarded", R"(for=192.0.2.60;proto=https, for="[2001:db8::7]:80")"}}),
          forwarded)
          .to_string()
        == "2001:db8::7");
  auto peer_only = rules_from({{"ingress.trusted_proxies", R"(["127.0.0.1"])"},
                               {"ingress.forwarded_client_ip_source", R"("peer")"}});
  CHECK(client_address_of(make_address("127.0.0.1"), head, peer_only).to_string() == "127.0.0.1");
}

TEST_CASE("the firewall admits listed addresses and fails closed on a bad entry", "[ingress]") {
  CHECK(rules_from({}).admits(make_address("203.0.113.1")));
  auto listed = rules_from({{"ingress.firewall_allowlist", R"(["10.0.0.0/8","::1"])"}});
  CHECK(listed.admits(make_address("10.1.1.1")));
  CHECK(listed.admits(make_address("::1")));
  CHECK_FALSE(listed.admits(make_address("203.0.113.1")));
  auto broken = rules_from({{"ingress.firewall_allowlist", R"(["10.0.0.0/8","10.0.0.0/99"])"}});
  CHECK(broken.allowlist_invalid);
  CHECK_FALSE(broken.admits(make_address("10.1.1.1")));
  CHECK(is_firewalled("/backend-api/codex/responses"));
  CHECK(is_firewalled("/v1/chat/completions?x=1"));
  CHECK(is_firewalled("/mcp"));
  CHECK(is_firewalled("/api/codex/usage"));
  CHECK_FALSE(is_firewalled("/admin/api/settings"));
  CHECK_FALSE(is_firewalled("/healthz"));
  CHECK_FALSE(is_firewalled("/metrics"));
}

TEST_CASE("routes fall into body classes with their own limits", "[ingress]") {
  CHECK(body_class_of("/admin/api/session") == body_class::pre_auth);
  CHECK(body_class_of("/bootstrap") == body_class::pre_auth);
  CHECK(body_class_of("/admin/api/invites/accept") == body_class::pre_auth);
  CHECK(body_class_of("/admin/api/upstreams/abc") == body_class::admin);
  CHECK(body_class_of("/v1/files") == body_class::upload);
  CHECK(body_class_of("/v1/audio/transcriptions") == body_class::upload);
  CHECK(body_class_of("/v1/responses") == body_class::runtime);
  CHECK(body_class_of("/backend-api/codex/responses") == body_class::runtime);
  CHECK(body_class_of("/something/else") == body_class::pre_auth);
  CHECK(body_class_of("/mcp") == body_class::pre_auth); // small JSON-RPC; read before auth
  auto rules = rules_from({{"ingress.max_body_bytes", "2048"},
                           {"ingress.max_admin_body_bytes", "4096"},
                           {"ingress.max_pre_auth_body_bytes", "1024"},
                           {"files.max_size_bytes", "100000"}});
  CHECK(rules.body_limit(body_class::runtime) == 2048);
  CHECK(rules.body_limit(body_class::admin) == 4096);
  CHECK(rules.body_limit(body_class::pre_auth) == 1024);
  CHECK(rules.body_limit(body_class::upload) >= 100000);
}

TEST_CASE("request framing follows RFC 9112 section 6.3", "[ingress]") {
  CHECK_FALSE(check_framing(head_with({{"content-length", "5"}})));
  CHECK_FALSE(check_framing(head_with({{"transfer-encoding", "chunked"}})));
  CHECK_FALSE(check_framing(head_with({{"transfer-encoding", "gzip, Chunked"}})));
  CHECK(check_framing(head_with({{"transfer-encoding", "gzip"}})) == errc::invalid_request);
  CHECK(check_framing(head_with({{"transfer-encoding", "chunked, gzip"}})));
  CHECK(check_framing(head_with({{"transfer-encoding", "chunked"}, {"content-length", "5"}})));
  CHECK(check_framing(head_with({{"content-length", "5"}, {"content-length", "5"}})));
  CHECK(check_framing(head_with({{"transfer-encoding", "chunked"}}, 10)));
  CHECK(
    check_framing(head_with({{"transfer-encoding", "chunked"}, {"transfer-encoding", "gzip"}})));
}

TEST_CASE("forwarded TLS counts only from a trusted proxy", "[ingress]") {
  auto trusted = rules_from({{"ingress.trusted_proxies", R"(["127.0.0.1"])"}});
  auto https = head_with({{"x-forwarded-proto", "HTTPS"}});
  CHECK(forwarded_over_tls(make_address("127.0.0.1"), https, trusted));
  CHECK_FALSE(forwarded_over_tls(make_address("192.0.2.1"), https, trusted));
  CHECK_FALSE(forwarded_over_tls(make_address("127.0.0.1"), head_with({}), trusted));
  CHECK(forwarded_over_tls(make_address("127.0.0.1"),
                           head_with({{"forwarded", "for=1.2.3.4;proto=https"}}), trusted));
}

TEST_CASE("the connection gate caps the node and each untrusted peer", "[ingress]") {
  auto gate = std::make_shared<connection_gate>();
  auto rules = rules_from({{"ingress.max_connections", "3"},
                           {"ingress.max_connections_per_ip", "2"},
                           {"ingress.trusted_proxies", R"(["10.0.0.1"])"}});
  auto a1 = gate->enter(make_address("192.0.2.1"), rules);
  auto a2 = gate->enter(make_address("192.0.2.1"), rules);
  auto a3 = gate->enter(make_address("::ffff:192.0.2.1"), rules);
  CHECK(a1.outcome == connection_gate::verdict::admitted);
  CHECK(a2.outcome == connection_gate::verdict::admitted);
  CHECK(a3.outcome == connection_gate::verdict::peer_full);
  auto proxy1 = gate->enter(make_address("10.0.0.1"), rules);
  CHECK(proxy1.outcome == connection_gate::verdict::admitted);
  CHECK(gate->enter(make_address("10.0.0.1"), rules).outcome
        == connection_gate::verdict::node_full);
  CHECK(gate->open() == 3);
  a1.slot.reset();
  CHECK(gate->open() == 2);
  CHECK(gate->enter(make_address("192.0.2.1"), rules).outcome
        == connection_gate::verdict::admitted);
  CHECK(gate->open() == 2); // the temporary's slot was released at once
}
