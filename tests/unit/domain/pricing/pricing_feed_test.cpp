#include "domain/pricing/pricing_feed.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "common/errc.hpp"
#include "domain/pricing/pricing_import.hpp"

using namespace cxp;
using namespace cxp::domain;
using nlohmann::json;

namespace {

/// A minimal valid feed with one token-priced model whose standard prices are `standard`.
json feed_with(json standard) {
  return {{"generated_at", "2026-09-01T12:00:00.123456Z"},
          {"models",
           {{"gpt-test",
             {{"model", "gpt-test"},
              {"pricing_type", "per_1m_tokens"},
              {"prices", {{"standard", std::move(standard)}}}}}}},
          {"models_count", 1}};
}

const persistence::model_price_row* find_row(const pricing_feed& feed, const std::string& model,
                                             const std::string& tier, const std::string& bucket) {
  auto it = std::find_if(feed.prices.begin(), feed.prices.end(), [&](const auto& row) {
    return row.model == model && row.service_tier == tier && row.price_bucket == bucket;
  });
  return it == feed.prices.end() ? nullptr : &*it;
}

/// The reason a feed was refused ("" when it was accepted).
std::string refusal(const json& feed) {
  auto parsed = parse_pricing_feed(feed.dump());
  return parsed ? std::string{} : context_of(parsed.error());
}

} // namespace

TEST_CASE("the built-in feed parses into exact integer prices", "[unit][domain][pricing]") {
  auto feed = parse_pricing_feed(builtin_pricing_feed());
  REQUIRE(feed);
  CHECK(feed->price_version == "2026-08-21T21:41:01.660811Z");
  CHECK(feed->effective_at == "2026-08-21T21:41:01.660811Z");
  // Of its 79 models, 46 have token prices in a snapshot tier and bucket: the others are priced
  // per minute or second, or only in buckets such as image/text or audio.
  CHECK(feed->model_count == 46);
  CHECK(feed->prices.size() == 187);

  const auto* standard = find_row(*feed, "gpt-5.5", "standard", "default");
  REQUIRE(standard != nullptr);
  CHECK(standard->available);
  CHECK(standard->input == 5'000'000);
  CHECK(standard->cached_input == 500'000);
  CHECK(standard->output == 30'000'000);
  CHECK(standard->reasoning == 30'000'000); // no reasoning price: the output price

  const auto* long_context = find_row(*feed, "gpt-5.5", "standard", "long_context");
  REQUIRE(long_context != nullptr);
  CHECK(long_context->input == 10'000'000);
  CHECK(long_context->output == 45'000'000);

  const auto* fast_long = find_row(*feed, "gpt-5.5", "fast", "long_context");
  REQUIRE(fast_long != nullptr);
  CHECK_FALSE(fast_long->available);

  // 0.13 and 0.0625 are not exact doubles; the stored prices are.
  CHECK(find_row(*feed, "gpt-5.4", "batch", "default")->cached_input == 130'000);
  CHECK(find_row(*feed, "gpt-5", "batch", "default")->cached_input == 62'500);
  CHECK(find_row(*feed, "gpt-5.6-sol", "standard", "default")->cache_write == 5'000'000);

  // Not priced per token, or priced only in buckets a snapshot does not keep.
  CHECK(find_row(*feed, "whisper", "standard", "transcription") == nullptr);
  CHECK(std::none_of(feed->prices.begin(), feed->prices.end(),
                     [](const auto& row) { return row.model == "sora-2"; }));
}

TEST_CASE("feed prices convert to micro-USD per million tokens exactly or not at all",
          "[unit][domain][pricing]") {
  CHECK(to_micros_per_mtok(json(5)) == 5'000'000);
  CHECK(to_micros_per_mtok(json(0)) == 0);
  CHECK(to_micros_per_mtok(json(12.5)) == 12'500'000);
  CHECK(to_micros_per_mtok(json(0.13)) == 130'000);
  CHECK(to_micros_per_mtok(json(0.0625)) == 62'500);
  CHECK(to_micros_per_mtok(json(0.000001)) == 1);
  CHECK(to_micros_per_mtok(json(1.1)) == 1'100'000);
  CHECK(to_micros_per_mtok(json(-0.0)) == 0);
  CHECK(to_micros_per_mtok(json(10000)) == 10'000'000'000);

  CHECK_FALSE(to_micros_per_mtok(json(0.0000001)));
  CHECK_FALSE(to_micros_per_mtok(json(-1)));
  CHECK_FALSE(to_micros_per_mtok(json(-0.5)));
  CHECK_FALSE(to_micros_per_mtok(json(10000.5)));
  CHECK_FALSE(to_micros_per_mtok(json(1e300)));
  CHECK_FALSE(to_micros_per_mtok(json("5.0")));
  CHECK_FALSE(to_micros_per_mtok(json(true)));
  CHECK_FALSE(to_micros_per_mtok(json(nullptr)));
}

TEST_CASE("a valid feed keeps snapshot tiers and buckets and leaves the rest out",
          "[unit][domain][pricing]") {
  auto document = feed_with({{"default", {{"input", 1.0}, {"output", 2.0}, {"reasoning", 3.0}}},
                             {"long_context", {{"available", false}}},
                             {"image", {{"input", 9.0}}}});
  document["models"]["gpt-test"]["prices"]["priority"] = {{"default", {{"input", 4.0}}}};
  document["models"]["gpt-test"]["prices"]["fast"] = {{"default", {{"input", 4.0}}}};
  document["models"]["gpt-test"]["prices"]["scale"] = {{"default", {{"input", 7.0}}}};
  document["models"]["Whisper"] = {{"model", "Whisper"},
                                   {"pricing_type", "per_minute"},
                                   {"prices", {{"standard", {{"default", {{"input", 1.0}}}}}}}};
  document["models_count"] = 2;
  auto feed = parse_pricing_feed(document.dump());
  REQUIRE(feed);
  CHECK(feed->model_count == 1);
  CHECK(feed->prices.size() == 3);
  const auto* standard = find_row(*feed, "gpt-test", "standard", "default");
  REQUIRE(standard != nullptr);
  CHECK(standard->input == 1'000'000);
  CHECK(standard->cached_input == 0);
  CHECK(standard->reasoning == 3'000'000);
  const auto* unavailable = find_row(*feed, "gpt-test", "standard", "long_context");
  REQUIRE(unavailable != nullptr);
  CHECK_FALSE(unavailable->available);
  const auto* fast = find_row(*feed, "gpt-test", "fast", "default");
  REQUIRE(fast != nullptr);
  CHECK(fast->input == 4'000'000);
  CHECK(fast->output == 0);
}

TEST_CASE("a feed that fails validation is refused with the reason", "[unit][domain][pricing]") {
  const auto valid = feed_with({{"default", {{"input", 1.0}, {"output", 2.0}}}});
  REQUIRE(refusal(valid).empty());

  CHECK(context_of(parse_pricing_feed("{not json").error()).find("not JSON") != std::string::npos);
  CHECK(refusal(json::array()).find("not a JSON object") != std::string::npos);
  CHECK(to_errc(parse_pricing_feed("[]").error()) == errc::invalid_request);

  auto without_time = valid;
  without_time.erase("generated_at");
  CHECK(refusal(without_time).find("generated_at") != std::string::npos);

  auto bad_time = valid;
  bad_time["generated_at"] = "yesterday";
  CHECK(refusal(bad_time).find("generated_at") != std::string::npos);

  auto no_models = valid;
  no_models["models"] = json::object();
  CHECK(refusal(no_models).find("models") != std::string::npos);

  auto wrong_count = valid;
  wrong_count["models_count"] = 2;
  CHECK(refusal(wrong_count).find("models_count") != std::string::npos);

  auto unnamed = valid;
  unnamed["models"]["gpt-test"].erase("model");
  CHECK(refusal(unnamed).find("models.gpt-test.model") != std::string::npos);

  auto spaced = valid;
  spaced["models"]["gpt-test"]["model"] = "gpt test";
  CHECK(refusal(spaced).find("models.gpt-test.model") != std::string::npos);

  auto twice = valid;
  twice["models"]["GPT-TEST"] = valid["models"]["gpt-test"];
  twice["models"]["GPT-TEST"]["model"] = "GPT-Test";
  twice["models_count"] = 2;
  CHECK(refusal(twice).find("listed twice") != std::string::npos);

  auto text_price = valid;
  text_price["models"]["gpt-test"]["prices"]["standard"]["default"]["output"] = "2.0";
  CHECK(refusal(text_price)
        == "model \"gpt-test\": prices.standard.default.output must be a "
           "non-negative number of USD per 1M tokens with at most 6 decimals");

  auto negative = valid;
  negative["models"]["gpt-test"]["prices"]["standard"]["default"]["input"] = -1.0;
  CHECK(refusal(negative).find("standard.default.input") != std::string::npos);

  auto too_precise = valid;
  too_precise["models"]["gpt-test"]["prices"]["standard"]["default"]["input"] = 0.1234567;
  CHECK(refusal(too_precise).find("at most 6 decimals") != std::string::npos);

  auto empty_bucket = valid;
  empty_bucket["models"]["gpt-test"]["prices"]["standard"]["default"] = {{"cached_input", 1.0}};
  CHECK(refusal(empty_bucket).find("neither an input nor an output price") != std::string::npos);

  auto odd_availability = valid;
  odd_availability["models"]["gpt-test"]["prices"]["standard"]["default"]["available"] = "no";
  CHECK(refusal(odd_availability).find(".available") != std::string::npos);

  auto tier_not_object = valid;
  tier_not_object["models"]["gpt-test"]["prices"]["flex"] = 3;
  CHECK(refusal(tier_not_object).find("prices.flex must be an object") != std::string::npos);

  auto disagreeing = valid;
  disagreeing["models"]["gpt-test"]["prices"]["fast"] = {{"default", {{"input", 4.0}}}};
  disagreeing["models"]["gpt-test"]["prices"]["priority"] = {{"default", {{"input", 5.0}}}};
  CHECK(refusal(disagreeing).find("fast and priority prices") != std::string::npos);

  auto per_minute_only = valid;
  per_minute_only["models"]["gpt-test"]["pricing_type"] = "per_minute";
  CHECK(refusal(per_minute_only).find("prices no model per token") != std::string::npos);

  CHECK(context_of(parse_pricing_feed(std::string(max_pricing_feed_bytes + 1, ' ')).error())
          .find("larger than")
        != std::string::npos);
}
