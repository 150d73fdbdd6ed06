#include "domain/settings/settings_registry.hpp"

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
  CHECK_FALSE(validate_setting(*find_setting("mcp.enabled"), "yes"));
  CHECK(find_setting("no.such.key") == nullptr);
}

TEST_CASE("a snapshot layers stored values over defaults and ignores bad rows",
          "[unit][domain][settings]") {
  auto snapshot = instance_settings::from_stored({
    {"gateway.circuit_open_seconds", "120"},
    {"gateway.circuit_failure_threshold", "\"three\""},
    {"mcp.enabled", "true"},
    {"unknown.key", "1"},
    {"metrics.bearer_token", "\"digest-value\""},
  });
  CHECK(snapshot.get_int("gateway.circuit_open_seconds") == 120);
  CHECK(snapshot.get_int("gateway.circuit_failure_threshold") == 3);
  CHECK(snapshot.get_bool("mcp.enabled"));
  CHECK(snapshot.get_string("ingress.forwarded_client_ip_source") == "x_forwarded_for");
  CHECK(snapshot.is_configured("metrics.bearer_token"));
  CHECK(snapshot.get_string("metrics.bearer_token").empty());
  CHECK(snapshot.stored_secret("metrics.bearer_token") == "digest-value");
}

TEST_CASE("the admin description never includes a secret's value", "[unit][domain][settings]") {
  auto snapshot = instance_settings::from_stored(
    {{"smtp.password", "\"ciphertext-xyz\""}, {"gateway.circuit_open_seconds", "90"}});
  const auto described = snapshot.describe();
  CHECK(described.dump().find("ciphertext-xyz") == std::string::npos);
  bool saw_password = false;
  for (const auto& item : described) {
    if (item["key"] == "smtp.password") {
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
