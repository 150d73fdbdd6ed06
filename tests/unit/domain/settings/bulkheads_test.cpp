#include "domain/settings/bulkheads.hpp"

#include <catch2/catch.hpp>

#include "common/errc.hpp"
#include "domain/settings/settings_registry.hpp"

using namespace cxp;
using namespace cxp::domain;
using json = nlohmann::json;

TEST_CASE("a bulkhead table takes any subset of classes and fields over the defaults",
          "[unit][settings][admission]") {
  auto table = validate_bulkheads({{"proxy_stream", {{"max_concurrency", 2}}}});
  REQUIRE(table);
  auto stream = bulkhead_of(*table, admission_class::proxy_stream);
  CHECK(stream.max_concurrency == 2);
  CHECK(stream.queue_limit == 96);
  CHECK(stream.queue_timeout == std::chrono::milliseconds{10'000});
  auto upload = bulkhead_of(*table, admission_class::file_upload);
  CHECK(upload.max_concurrency == 4);
  for (auto kind : all_admission_classes) {
    CHECK(table->contains(std::string{to_string(kind)}));
  }
}

TEST_CASE("a bulkhead table names what is wrong with it", "[unit][settings][admission]") {
  auto context = [](const json& value) {
    auto table = validate_bulkheads(value);
    REQUIRE_FALSE(table);
    CHECK(to_errc(table.error()) == errc::validation_failed);
    return context_of(table.error());
  };
  CHECK(context(json::array()).find("must be an object") != std::string::npos);
  CHECK(context({{"proxy_sideways", json::object()}}) == "unknown route class proxy_sideways");
  CHECK(context({{"proxy_http", 3}}) == "proxy_http must be an object");
  CHECK(context({{"proxy_http", {{"burst", 3}}}}) == "proxy_http: unknown field burst");
  CHECK(context({{"proxy_http", {{"max_concurrency", 0}}}})
        == "proxy_http.max_concurrency must be an integer between 1 and 100000");
  CHECK(context({{"proxy_http", {{"queue_timeout_ms", "soon"}}}}).find("queue_timeout_ms")
        != std::string::npos);
}

TEST_CASE("instance settings answer a class's bulkhead from gateway.bulkheads",
          "[unit][settings][admission]") {
  CHECK(instance_settings{}.gateway().bulkhead(admission_class::proxy_http).max_concurrency == 32);
  auto stored = instance_settings::from_stored(
    {{"gateway.bulkheads", R"({"proxy_http":{"max_concurrency":3,"queue_limit":0}})"}});
  auto http = stored.gateway().bulkhead(admission_class::proxy_http);
  CHECK(http.max_concurrency == 3);
  CHECK(http.queue_limit == 0);
  // A stored value that no longer validates falls back to the defaults.
  auto broken = instance_settings::from_stored(
    {{"gateway.bulkheads", R"({"proxy_http":{"max_concurrency":-1}})"}});
  CHECK(broken.gateway().bulkhead(admission_class::proxy_http).max_concurrency == 32);
}
