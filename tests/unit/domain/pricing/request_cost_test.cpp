#include "domain/pricing/request_cost.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;

namespace {

persistence::model_price_row price(std::string model, std::string tier, std::string bucket,
                                   int64_t input, int64_t cached, int64_t output,
                                   bool available = true) {
  persistence::model_price_row row;
  row.model = std::move(model);
  row.service_tier = std::move(tier);
  row.price_bucket = std::move(bucket);
  row.available = available;
  row.input = input;
  row.cached_input = cached;
  row.output = output;
  row.reasoning = output;
  return row;
}

/// gpt-5.5's standard and fast prices from the built-in feed, plus a flat-priced model.
price_book sample_book() {
  return price_book{
    "snap-1",
    {price("gpt-5.5", "standard", "default", 5'000'000, 500'000, 30'000'000),
     price("gpt-5.5", "standard", "short_context", 5'000'000, 500'000, 30'000'000),
     price("gpt-5.5", "standard", "long_context", 10'000'000, 1'000'000, 45'000'000),
     price("gpt-5.5", "fast", "default", 12'500'000, 1'250'000, 75'000'000),
     price("gpt-5.5", "fast", "long_context", 0, 0, 0, false),
     price("gpt-5", "standard", "default", 1'250'000, 125'000, 10'000'000),
     price("short-only", "standard", "short_context", 1'000'000, 0, 2'000'000)}};
}

token_usage usage(int64_t input, int64_t cached, int64_t output, int64_t reasoning) {
  token_usage out;
  out.input = input;
  out.cached_input = cached;
  out.output = output;
  out.reasoning = reasoning;
  return out;
}

} // namespace

TEST_CASE("service tiers map to the feed's tiers, priority being fast", "[unit][domain][pricing]") {
  CHECK(billed_tier(std::nullopt) == service_tier::standard);
  CHECK(billed_tier(std::string{""}) == service_tier::standard);
  CHECK(billed_tier(std::string{"auto"}) == service_tier::standard);
  CHECK(billed_tier(std::string{"default"}) == service_tier::standard);
  CHECK(billed_tier(std::string{"priority"}) == service_tier::fast);
  CHECK(billed_tier(std::string{"Priority"}) == service_tier::fast);
  CHECK(billed_tier(std::string{"fast"}) == service_tier::fast);
  CHECK(billed_tier(std::string{"flex"}) == service_tier::flex);
  CHECK_FALSE(billed_tier(std::string{"turbo"}));
}

TEST_CASE("the cost formula bills cached input and reasoning apart, rounding once",
          "[unit][domain][pricing]") {
  persistence::token_rates rates;
  rates.input = 5'000'000;
  rates.cached_input = 500'000;
  rates.cache_write = 6'250'000;
  rates.output = 30'000'000;
  rates.reasoning = 40'000'000;
  // (10 − 2) × 5 + 2 × 0.5 + (3 − 1) × 30 + 1 × 40 = 141 micro-USD.
  CHECK(cost_micros(rates, usage(10, 2, 3, 1)) == 141);
  // Cache writes come out of the uncached input: (10 − 2 − 4) × 5 + 2 × 0.5 + 4 × 6.25 = 46.
  auto writes = usage(10, 2, 0, 0);
  writes.cache_write = 4;
  CHECK(cost_micros(rates, writes) == 46);
  // Cached beyond the input and reasoning beyond the output are capped, never negative.
  CHECK(cost_micros(rates, usage(4, 9, 1, 5)) == 2 + 40);
  // 3 × 0.125 = 0.375 rounds down, 5 × 0.1 = 0.5 rounds up: one rounding for the whole sum.
  persistence::token_rates cheap;
  cheap.cached_input = 125'000;
  cheap.input = 100'000;
  CHECK(cost_micros(cheap, usage(3, 3, 0, 0)) == 0);
  CHECK(cost_micros(cheap, usage(5, 0, 0, 0)) == 1);
  CHECK(cost_micros(cheap, usage(8, 3, 0, 0)) == 1); // 0.5 + 0.375 = 0.875
  // The bounds cannot overflow.
  persistence::token_rates dear;
  dear.input = dear.cached_input = dear.cache_write = dear.output = dear.reasoning =
    max_rate_micros_per_mtok;
  auto most = usage(max_priced_tokens, 0, max_priced_tokens, 0);
  most.cache_write = max_priced_tokens;
  CHECK(cost_micros(dear, most) == 2 * max_priced_tokens * (max_rate_micros_per_mtok / 1'000'000));
}

TEST_CASE("a request is priced at its model, tier and context bucket", "[unit][domain][pricing]") {
  const auto book = sample_book();
  SECTION("standard, short context") {
    auto priced = price_request(book, "gpt-5.5", std::nullopt, usage(10, 2, 3, 1));
    CHECK(priced.status == pricing_status::priced);
    CHECK(priced.cost_micros == 8 * 5 + 1 + 3 * 30); // 131
    CHECK(priced.snapshot_id == "snap-1");
    CHECK(priced.bucket == price_bucket::default_bucket);
  }
  SECTION("standard, long context above 272,000 input tokens") {
    auto priced =
      price_request(book, "gpt-5.5", std::string{"default"}, usage(300'000, 100'000, 1'000, 200));
    CHECK(priced.status == pricing_status::priced);
    CHECK(priced.bucket == price_bucket::long_context);
    CHECK(priced.cost_micros == 200'000 * 10 + 100'000 * 1 + 1'000 * 45); // 2,145,000
  }
  SECTION("exactly 272,000 input tokens is still short context") {
    auto priced = price_request(book, "gpt-5.5", std::nullopt, usage(272'000, 0, 0, 0));
    CHECK(priced.bucket == price_bucket::default_bucket);
    CHECK(priced.cost_micros == 272'000 * 5);
  }
  SECTION("a model without a long-context price keeps its one price") {
    auto priced = price_request(book, "gpt-5", std::nullopt, usage(400'000, 0, 10, 0));
    CHECK(priced.status == pricing_status::priced);
    CHECK(priced.bucket == price_bucket::default_bucket);
    CHECK(priced.cost_micros == 500'100); // 400,000 × 1.25 + 10 × 10
  }
  SECTION("a model priced only by short_context") {
    auto priced = price_request(book, "short-only", std::nullopt, usage(10, 0, 10, 0));
    CHECK(priced.bucket == price_bucket::short_context);
    CHECK(priced.cost_micros == 30);
  }
  SECTION("priority is the fast tier") {
    auto priced = price_request(book, "gpt-5.5", std::string{"priority"}, usage(10, 2, 3, 1));
    CHECK(priced.status == pricing_status::priced);
    // 8 × 12.5 + 2 × 1.25 + 3 × 75 = 327.5, rounded half up.
    CHECK(priced.cost_micros == 328);
  }
  SECTION("provider-qualified and differently cased names resolve") {
    CHECK(price_request(book, "openai/GPT-5.5", std::nullopt, usage(10, 2, 3, 1)).cost_micros
          == 131);
  }
}

TEST_CASE("what cannot be priced is unpriced, never guessed", "[unit][domain][pricing]") {
  const auto book = sample_book();
  const auto some = usage(10, 2, 3, 1);
  auto check_unpriced = [](const request_price& price, const char* reason) {
    INFO(reason);
    CHECK(price.status == pricing_status::unpriced);
    CHECK_FALSE(price.cost_micros);
    CHECK(price.unpriced_reason.find(reason) != std::string::npos);
  };
  check_unpriced(price_request(book, "gpt-9", std::nullopt, some), "model not in the snapshot");
  check_unpriced(price_request(book, "gpt-5.5-2026-01-01", std::nullopt, some),
                 "model not in the snapshot");
  check_unpriced(price_request(book, std::nullopt, std::nullopt, some), "no model");
  check_unpriced(price_request(book, "gpt-5.5", std::string{"turbo"}, some), "service tier");
  check_unpriced(price_request(book, "gpt-5.5", std::string{"flex"}, some), "service tier");
  check_unpriced(price_request(book, "gpt-5.5", std::string{"priority"}, usage(300'000, 0, 1, 0)),
                 "long_context price is not offered");
  check_unpriced(price_request(book, "gpt-5.5", std::nullopt, usage(-1, 0, 0, 0)), "out of range");
  check_unpriced(
    price_request(book, "gpt-5.5", std::nullopt, usage(max_priced_tokens + 1, 0, 0, 0)),
    "out of range");
  CHECK(price_request(book, "gpt-9", std::nullopt, some).snapshot_id == "snap-1");
  check_unpriced(price_request(price_book{}, "gpt-5.5", std::nullopt, some), "no pricing snapshot");
  CHECK_FALSE(price_request(price_book{}, "gpt-5.5", std::nullopt, some).snapshot_id);

  auto without_usage = price_request(book, "gpt-5.5", std::nullopt, std::nullopt);
  CHECK(without_usage.status == pricing_status::not_applicable);
  CHECK_FALSE(without_usage.cost_micros);
  CHECK_FALSE(without_usage.snapshot_id);
  CHECK(to_string(pricing_status::not_applicable) == "not_applicable");
}

TEST_CASE("a request log row gets its cost, snapshot and status once", "[unit][domain][pricing]") {
  const auto book = sample_book();
  persistence::request_log_row row;
  row.model = "gpt-5.5";
  row.service_tier = "priority";
  row.input_tokens = 10;
  row.cached_input_tokens = 2;
  row.output_tokens = 3;
  row.reasoning_tokens = 1;
  price_log_row(book, row);
  CHECK(row.pricing_status == "priced");
  CHECK(row.cost_micros == 328);
  CHECK(row.pricing_snapshot_id == "snap-1");

  // Priced already (by an earlier write): a second pass changes nothing.
  price_log_row(price_book{"snap-2", {}}, row);
  CHECK(row.pricing_snapshot_id == "snap-1");

  persistence::request_log_row failed;
  failed.model = "gpt-5.5";
  CHECK_FALSE(usage_of(failed));
  price_log_row(book, failed);
  CHECK(failed.pricing_status == "not_applicable");
  CHECK_FALSE(failed.cost_micros);
  CHECK_FALSE(failed.pricing_snapshot_id);

  persistence::request_log_row output_only;
  output_only.model = "gpt-9";
  output_only.output_tokens = 5;
  REQUIRE(usage_of(output_only));
  CHECK(usage_of(output_only)->input == 0);
  price_log_row(book, output_only);
  CHECK(output_only.pricing_status == "unpriced");
  CHECK(output_only.pricing_snapshot_id == "snap-1");
}
