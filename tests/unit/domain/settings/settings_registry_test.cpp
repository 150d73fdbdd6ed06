#include "domain/settings/settings_registry.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include <catch2/catch.hpp>

using namespace cxp::domain;
using json = nlohmann::json;

TEST_CASE("every registered setting has a valid default and a unique key",
          "[unit][domain][settings]") {
  std::set<std::string> keys;
  for (const auto& spec : setting_registry()) {
    CAPTURE(spec.key);
    CHECK(keys.insert(spec.key).second);
    CHECK(spec.key.find('.') != std::string::npos);
    if (!spec.is_secret()) {
      CHECK(validate_setting(spec, spec.default_value));
    }
  }
}

TEST_CASE("validation enforces type, range and choices", "[unit][domain][settings]") {
  const auto* keepalive = find_setting("gateway.sse_keepalive_interval_ms");
  REQUIRE(keepalive != nullptr);
  CHECK(validate_setting(*keepalive, 5000));
  CHECK_FALSE(validate_setting(*keepalive, -1));
  CHECK_FALSE(validate_setting(*keepalive, "5000"));
  CHECK_FALSE(validate_setting(*keepalive, 5.5));
  const auto* source = find_setting("ingress.forwarded_client_ip_source");
  REQUIRE(source != nullptr);
  CHECK(validate_setting(*source, "peer"));
  CHECK_FALSE(validate_setting(*source, "cookie"));
  const auto* allowlist = find_setting("ingress.firewall_allowlist");
  CHECK(validate_setting(*allowlist, json::array({"10.0.0.0/8"})));
  CHECK_FALSE(validate_setting(*allowlist, json::array({1})));
  CHECK(find_setting("no.such.key") == nullptr);
}

TEST_CASE("a snapshot layers stored values over defaults and ignores bad rows",
          "[unit][domain][settings]") {
  auto snapshot = instance_settings::from_stored({
    {"gateway.circuit_open_seconds", "120"},
    {"gateway.circuit_failure_threshold", "\"three\""},
    {"ingress.trusted_proxies", "[\"10.0.0.0/8\"]"},
    {"unknown.key", "1"},
    {"metrics.bearer_token", "\"digest-value\""},
  });
  CHECK(snapshot.gateway().circuit.open_for == std::chrono::seconds{120});
  CHECK(snapshot.gateway().circuit.failure_threshold == 3);
  CHECK(snapshot.ingress().trusted_proxies == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(snapshot.ingress().forwarded_client_ip_source == "x_forwarded_for");
  CHECK(snapshot.is_configured("metrics.bearer_token"));
  CHECK(snapshot.sections().metrics.bearer_token_digest == "digest-value");
  CHECK_FALSE(instance_settings{}.sections().metrics.bearer_token_digest);
}

TEST_CASE("the admin description never includes a secret's value", "[unit][domain][settings]") {
  auto snapshot = instance_settings::from_stored(
    {{"metrics.bearer_token", "\"digest-xyz\""}, {"gateway.circuit_open_seconds", "90"}});
  const auto described = snapshot.describe();
  CHECK(described.dump().find("digest-xyz") == std::string::npos);
  bool saw_password = false;
  for (const auto& item : described) {
    if (item["key"] == "metrics.bearer_token") {
      saw_password = true;
      CHECK(item["configured"] == true);
      CHECK_FALSE(item.contains("value"));
    }
    if (item["key"] == "gateway.bulkheads") {
      CHECK(item["type"] == "bulkhead_table");
      CHECK(item["value"]["proxy_stream"]["max_concurrency"] == 24);
    }
    if (item["key"] == "gateway.circuit_open_seconds") {
      CHECK(item["value"] == 90);
      CHECK(item["default"] == 60);
      CHECK(item["source"] == "database");
    }
  }
  CHECK(saw_password);
}

TEST_CASE("every registered setting has a reader, and every reader a registered setting",
          "[unit][domain][settings]") {
  auto read = settings_keys_with_a_reader();
  std::sort(read.begin(), read.end());
  CHECK(std::adjacent_find(read.begin(), read.end()) == read.end());
  std::vector<std::string> registered;
  for (const auto& spec : setting_registry()) {
    registered.push_back(spec.key);
  }
  std::sort(registered.begin(), registered.end());
  std::vector<std::string> unread;
  std::set_difference(registered.begin(), registered.end(), read.begin(), read.end(),
                      std::back_inserter(unread));
  std::vector<std::string> unregistered;
  std::set_difference(read.begin(), read.end(), registered.begin(), registered.end(),
                      std::back_inserter(unregistered));
  CHECK(unread.empty());
  CHECK(unregistered.empty());
}

TEST_CASE("the typed sections carry stored values in their units", "[unit][domain][settings]") {
  const auto snapshot = instance_settings::from_stored({
    {"gateway.upstream_connect_timeout_ms", "2500"},
    {"gateway.session_affinity_ttl_seconds", "300"},
    {"ingress.max_admin_body_bytes", "2048"},
    {"operator.invite_ttl_hours", "12"},
    {"gateway.bulkheads", R"({"proxy_http": {"max_concurrency": 7}})"},
  });
  CHECK(snapshot.gateway().upstream_connect_timeout == std::chrono::milliseconds{2500});
  CHECK(snapshot.gateway().session_affinity_ttl == std::chrono::seconds{300});
  CHECK(snapshot.ingress().max_admin_body_bytes == 2048);
  CHECK(snapshot.sections().operators.invite_ttl_hours == 12);
  CHECK(snapshot.gateway().bulkhead(admission_class::proxy_http).max_concurrency == 7);
  CHECK(instance_settings{}.gateway().upstream_connect_timeout == std::chrono::milliseconds{15000});
}
