#include "common/metrics/registry.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace cxp::metrics;

namespace {

const metric_family* find_family(const std::vector<metric_family>& families,
                                 std::string_view name) {
  for (const auto& candidate : families) {
    if (candidate.name == name) {
      return &candidate;
    }
  }
  return nullptr;
}

} // namespace

TEST_CASE("family returns the same child for the same labels and a new one for other labels",
          "[unit][common][metrics]") {
  registry reg;
  auto& requests = build_counter()
                     .name("codex_pooler_edge_requests_total")
                     .help("Requests received.")
                     .register_(reg);

  auto& first = requests.add({{"route", "/v1/responses"}, {"status", "200"}});
  auto& again = requests.add({{"status", "200"}, {"route", "/v1/responses"}});
  auto& other = requests.add({{"route", "/v1/responses"}, {"status", "500"}});

  CHECK(&first == &again);
  CHECK(&first != &other);
  first.increment();
  CHECK(again.value() == 1.0);
  CHECK(other.value() == 0.0);
  CHECK(requests.has({{"route", "/v1/responses"}, {"status", "500"}}));
  CHECK_FALSE(requests.has({{"route", "/v1/responses"}}));
}

TEST_CASE("registering a name twice with the same type returns the same family",
          "[unit][common][metrics]") {
  registry reg;
  auto& first = build_gauge().name("codex_pooler_pool_accounts").help("Accounts.").register_(reg);
  auto& second = build_gauge().name("codex_pooler_pool_accounts").help("Other.").register_(reg);

  CHECK(&first == &second);
  CHECK(second.help() == "Accounts.");
}

TEST_CASE("counter never decreases", "[unit][common][metrics]") {
  counter c;
  c.increment();
  c.increment(2.5);
  c.increment(-10.0);
  c.increment(std::numeric_limits<double>::quiet_NaN());
  c.increment(0.0);

  CHECK(c.value() == 3.5);
}

TEST_CASE("gauge moves both ways and can be set", "[unit][common][metrics]") {
  gauge g;
  g.increment();
  g.increment(4.0);
  g.decrement(2.0);
  CHECK(g.value() == 3.0);
  g.decrement(5.0);
  CHECK(g.value() == -2.0);
  g.set(42.0);
  CHECK(g.value() == 42.0);
}

TEST_CASE("concurrent increments from several threads sum exactly", "[unit][common][metrics]") {
  constexpr int thread_count = 8;
  constexpr int increments_per_thread = 20'000;
  registry reg;
  auto& hits = build_counter().name("codex_pooler_test_hits_total").help("Hits.").register_(reg);
  auto& level = build_gauge().name("codex_pooler_test_level").help("Level.").register_(reg);
  auto& latency =
    build_histogram().name("codex_pooler_test_seconds").help("Latency.").register_(reg);

  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      // Every thread goes through `add` too, so the family map is exercised concurrently.
      auto& mine = hits.add({{"kind", "shared"}});
      auto& up = level.add({});
      auto& observed = latency.add({});
      for (int i = 0; i < increments_per_thread; ++i) {
        mine.increment();
        up.increment(t % 2 == 0 ? 1.0 : -1.0);
        observed.observe(0.5);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  constexpr double total = double{thread_count} * increments_per_thread;
  CHECK(hits.add({{"kind", "shared"}}).value() == total);
  CHECK(level.add({}).value() == 0.0);
  const auto snapshot = latency.add({}).snapshot();
  CHECK(snapshot.sample_count == static_cast<std::uint64_t>(total));
  CHECK(snapshot.sample_sum == total * 0.5);
}

TEST_CASE("histogram buckets are cumulative and end with +Inf", "[unit][common][metrics]") {
  histogram h{{0.1, 1.0, 10.0}};
  h.observe(0.05);
  h.observe(0.1); // `le` is inclusive
  h.observe(0.5);
  h.observe(10.0);
  h.observe(11.0);

  const auto snapshot = h.snapshot();
  REQUIRE(snapshot.buckets.size() == 4);
  CHECK(snapshot.buckets[0].upper_bound == 0.1);
  CHECK(snapshot.buckets[0].cumulative_count == 2);
  CHECK(snapshot.buckets[1].cumulative_count == 3);
  CHECK(snapshot.buckets[2].cumulative_count == 4);
  CHECK(std::isinf(snapshot.buckets[3].upper_bound));
  CHECK(snapshot.buckets[3].cumulative_count == 5);
  CHECK(snapshot.sample_count == 5);
  CHECK(snapshot.sample_sum == Approx(21.65));
}

TEST_CASE("histogram drops an explicit trailing +Inf bound", "[unit][common][metrics]") {
  histogram h{{1.0, std::numeric_limits<double>::infinity()}};
  h.observe(2.0);

  CHECK(h.upper_bounds() == std::vector<double>{1.0});
  const auto snapshot = h.snapshot();
  REQUIRE(snapshot.buckets.size() == 2);
  CHECK(snapshot.buckets[0].cumulative_count == 0);
  CHECK(snapshot.buckets[1].cumulative_count == 1);
}

TEST_CASE("histogram children use family default buckets unless given their own",
          "[unit][common][metrics]") {
  registry reg;
  auto& sizes = build_histogram()
                  .name("codex_pooler_edge_body_bytes")
                  .help("Body sizes.")
                  .buckets({100.0, 1000.0})
                  .register_(reg);
  auto& defaulted = build_histogram().name("codex_pooler_edge_seconds").help("x").register_(reg);

  CHECK(sizes.add({{"dir", "in"}}).upper_bounds() == std::vector<double>{100.0, 1000.0});
  CHECK(sizes.add({{"dir", "out"}}, {1.0, 2.0}).upper_bounds() == std::vector<double>{1.0, 2.0});
  CHECK(sizes.add({{"dir", "out"}}, {5.0}).upper_bounds() == std::vector<double>{1.0, 2.0});
  CHECK(defaulted.add({}).upper_bounds() == default_buckets());
}

TEST_CASE("collect merges constant labels and sorts families and children",
          "[unit][common][metrics]") {
  registry reg;
  auto& zeta =
    build_gauge().name("codex_pooler_z_value").help("Z.").labels({{"node", "a"}}).register_(reg);
  auto& alpha = build_counter().name("codex_pooler_a_total").help("A.").register_(reg);
  build_counter().name("codex_pooler_empty_total").help("Never used.").register_(reg);
  zeta.add({{"zone", "2"}}).set(2.0);
  zeta.add({{"area", "1"}}).set(1.0);
  alpha.add({}).increment(3.0);

  const auto families = reg.collect();

  REQUIRE(families.size() == 2);
  CHECK(families[0].name == "codex_pooler_a_total");
  CHECK(families[0].type == metric_type::counter);
  CHECK(families[0].metrics.at(0).value == 3.0);
  const auto* z = find_family(families, "codex_pooler_z_value");
  REQUIRE(z != nullptr);
  REQUIRE(z->metrics.size() == 2);
  const auto& first = z->metrics[0].label_pairs;
  REQUIRE(first.size() == 2);
  CHECK(first[0].name == "area");
  CHECK(first[0].value == "1");
  CHECK(first[1].name == "node");
  CHECK(first[1].value == "a");
  CHECK(z->metrics[1].label_pairs[1].name == "zone");
  CHECK(z->metrics[1].value == 2.0);
}

TEST_CASE("removing a child drops it from the next collection", "[unit][common][metrics]") {
  registry reg;
  auto& up = build_gauge().name("codex_pooler_account_up").help("Up.").register_(reg);
  up.add({{"account", "a"}}).set(1.0);
  up.add({{"account", "b"}}).set(1.0);

  up.remove({{"account", "a"}});

  const auto families = reg.collect();
  REQUIRE(families.size() == 1);
  REQUIRE(families[0].metrics.size() == 1);
  CHECK(families[0].metrics[0].label_pairs[0].value == "b");
}

TEST_CASE("metric and label names are checked against the Prometheus grammar",
          "[unit][common][metrics]") {
  SECTION("metric names") {
    CHECK(is_valid_metric_name("codex_pooler_edge_requests_total"));
    CHECK(is_valid_metric_name("_private"));
    CHECK(is_valid_metric_name("job:rate5m"));
    CHECK(is_valid_metric_name("A9"));
    CHECK_FALSE(is_valid_metric_name(""));
    CHECK_FALSE(is_valid_metric_name("9lives"));
    CHECK_FALSE(is_valid_metric_name("has-dash"));
    CHECK_FALSE(is_valid_metric_name("has space"));
    CHECK_FALSE(is_valid_metric_name("caf\xC3\xA9"));
  }
  SECTION("label names") {
    CHECK(is_valid_label_name("status"));
    CHECK(is_valid_label_name("_x"));
    CHECK(is_valid_label_name("le"));
    CHECK_FALSE(is_valid_label_name(""));
    CHECK_FALSE(is_valid_label_name("__name__"));
    CHECK_FALSE(is_valid_label_name("__reserved"));
    CHECK_FALSE(is_valid_label_name("a:b"));
    CHECK_FALSE(is_valid_label_name("1st"));
    CHECK_FALSE(is_valid_label_name("with-dash"));
  }
}

TEST_CASE("metric types are spelled as on the TYPE line", "[unit][common][metrics]") {
  CHECK(to_string(metric_type::counter) == "counter");
  CHECK(to_string(metric_type::gauge) == "gauge");
  CHECK(to_string(metric_type::histogram) == "histogram");
}
