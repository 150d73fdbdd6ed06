#include <catch2/catch.hpp>

#include "domain/pools/pool_usage_service.hpp"

using namespace cxp;

TEST_CASE("a usage report sums rollups in total and by pool, model and hour", "[usage]") {
  auto row = [](std::string hour, std::string pool, std::string model, int64_t requests,
                int64_t cost) {
    persistence::usage_rollup_row r;
    r.bucket_start = std::move(hour);
    r.pool_id = std::move(pool);
    r.model = std::move(model);
    r.counts.requests = requests;
    r.counts.errors = 1;
    r.counts.input_tokens = 10 * requests;
    r.counts.cost_micros = cost;
    return r;
  };
  const auto report = domain::summarize_usage("h0", "h9",
                                              {row("h1", "pool-b", "gpt-5.5", 2, 100),
                                               row("h1", "pool-a", "gpt-5.5", 1, 50),
                                               row("h2", "pool-a", "mini", 4, 7)});
  CHECK(report.totals.requests == 7);
  CHECK(report.totals.errors == 3);
  CHECK(report.totals.input_tokens == 70);
  CHECK(report.totals.cost_micros == 157);
  REQUIRE(report.by_pool.size() == 2);
  CHECK(report.by_pool[0].first == "pool-a");
  CHECK(report.by_pool[0].second.requests == 5);
  CHECK(report.by_pool[1].second.cost_micros == 100);
  REQUIRE(report.by_model.size() == 2);
  CHECK(report.by_model[0].first == "gpt-5.5");
  CHECK(report.by_model[0].second.cost_micros == 150);
  REQUIRE(report.by_hour.size() == 2);
  CHECK(report.by_hour[1].first == "h2");
  CHECK(report.by_hour[1].second.requests == 4);
  const auto rendered = domain::to_json(report);
  CHECK(rendered["by_model"][1]["model"] == "mini");
  CHECK(rendered["totals"]["cost_micros"] == 157);
}
