#include "edge/routes/admin_api/admin_fields.hpp"

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/errc.hpp"
#include "domain/admin_input.hpp"
#include "tests/support/control_samples.hpp"

using namespace cxp;
using namespace cxp::edge;
using json = nlohmann::json;

namespace {

std::map<std::string, std::string> field_errors(const caf::error& err) {
  CHECK(to_errc(err) == errc::validation_failed);
  return field_errors_of(err);
}

using cxp::test::control_samples;

} // namespace

TEST_CASE("parse_pool_fields reads every known field", "[unit][edge][admin]") {
  auto fields = parse_pool_fields(nlohmann::json{{"name", "Team A"},
                                                 {"slug", "Team-A"},
                                                 {"routing_strategy", "quota_first"},
                                                 {"ring_size", 5},
                                                 {"sticky_sessions", false},
                                                 {"prompt_cache_affinity", false},
                                                 {"v1_compatibility_enabled", false},
                                                 {"allow_image_generation", false}});
  REQUIRE(fields);
  CHECK(fields->name == "Team A");
  CHECK(fields->slug == "team-a");
  CHECK(fields->routing_strategy == "quota_first");
  CHECK(fields->ring_size == 5);
  CHECK(fields->sticky_sessions == false);
  CHECK(fields->prompt_cache_affinity == false);
  CHECK(fields->v1_compatibility_enabled == false);
  CHECK(fields->allow_image_generation == false);

  auto empty = parse_pool_fields(nlohmann::json::object());
  REQUIRE(empty);
  CHECK_FALSE(empty->name);
  CHECK_FALSE(empty->ring_size);
}

TEST_CASE("parse_pool_fields names each unknown, mistyped or out-of-range field",
          "[unit][edge][admin]") {
  auto result = parse_pool_fields(nlohmann::json{{"name", 7},
                                                 {"slug", "-bad slug-"},
                                                 {"routing_strategy", "random"},
                                                 {"ring_size", 65},
                                                 {"sticky_sessions", "yes"},
                                                 {"allow_image_generation", nullptr},
                                                 {"colour", "blue"}});
  REQUIRE_FALSE(result);
  auto errors = field_errors(result.error());
  CHECK(errors.count("name") == 1);
  CHECK(errors.count("slug") == 1);
  CHECK(errors.count("routing_strategy") == 1);
  CHECK(errors.count("ring_size") == 1);
  CHECK(errors.count("sticky_sessions") == 1);
  CHECK(errors.count("allow_image_generation") == 1);
  CHECK(errors.count("colour") == 1);
  CHECK(errors.size() == 7);

  SECTION("ring sizes outside 1..64, fractional or huge") {
    for (auto bad :
         {nlohmann::json(0), nlohmann::json(-1), nlohmann::json(2.5), nlohmann::json(1ULL << 40)}) {
      auto parsed = parse_pool_fields(nlohmann::json{{"ring_size", bad}});
      REQUIRE_FALSE(parsed);
      CHECK(field_errors(parsed.error()).count("ring_size") == 1);
    }
  }
  SECTION("names that are blank or longer than 100 characters") {
    for (const auto& bad : {std::string{"   "}, std::string(101, 'x')}) {
      auto parsed = parse_pool_fields(nlohmann::json{{"name", bad}});
      REQUIRE_FALSE(parsed);
      CHECK(field_errors(parsed.error()).count("name") == 1);
    }
    CHECK(parse_pool_fields(nlohmann::json{{"name", std::string(100, 'x')}}));
  }
  SECTION("a body that is not an object") {
    auto parsed = parse_pool_fields(nlohmann::json::array());
    REQUIRE_FALSE(parsed);
    CHECK(field_errors(parsed.error()).count("body") == 1);
  }
}

TEST_CASE("parse_api_key_fields reads the key fields and a nested policy", "[unit][edge][admin]") {
  auto fields = parse_api_key_fields(nlohmann::json::parse(R"({
    "pool_id": "p", "display_name": "CI key", "expires_at": "2030-01-01T00:00:00Z",
    "policy": {"allowed_models": ["gpt-5", "gpt-5-codex"], "enforced_model": "gpt-5",
               "max_reasoning_effort": "high", "max_requests_per_minute": 60,
               "max_tokens_per_day": 1000000, "max_tokens_per_week": 5000000}})"));
  REQUIRE(fields);
  CHECK(fields->pool_id == "p");
  CHECK(fields->display_name == "CI key");
  CHECK(fields->expires_at == "2030-01-01T00:00:00Z");
  REQUIRE(fields->policy);
  CHECK(fields->policy->allowed_models == std::vector<std::string>{"gpt-5", "gpt-5-codex"});
  CHECK(fields->policy->enforced_model == "gpt-5");
  CHECK(fields->policy->max_reasoning_effort == "high");
  CHECK_FALSE(fields->policy->enforced_reasoning_effort);
  CHECK(fields->policy->max_requests_per_minute == 60);
  CHECK(fields->policy->max_tokens_per_day == 1000000);
  CHECK(fields->policy->max_tokens_per_week == 5000000);
  CHECK(fields->cleared.empty());
}

TEST_CASE("parse_api_key_fields records explicit nulls as cleared members", "[unit][edge][admin]") {
  auto fields = parse_api_key_fields(nlohmann::json::parse(
    R"({"expires_at": null, "policy": {"allowed_models": null, "max_tokens_per_day": null}})"));
  REQUIRE(fields);
  CHECK(fields->cleared.count("expires_at") == 1);
  CHECK(fields->cleared.count("allowed_models") == 1);
  CHECK(fields->cleared.count("max_tokens_per_day") == 1);
  CHECK(fields->cleared.size() == 3);
  REQUIRE(fields->policy);
  CHECK_FALSE(fields->policy->allowed_models);

  auto all = parse_api_key_fields(nlohmann::json::parse(R"({"policy": null})"));
  REQUIRE(all);
  CHECK(all->cleared.size() == 7);

  auto deny_all =
    parse_api_key_fields(nlohmann::json::parse(R"({"policy": {"allowed_models": []}})"));
  REQUIRE(deny_all);
  REQUIRE(deny_all->policy->allowed_models);
  CHECK(deny_all->policy->allowed_models->empty());
}

TEST_CASE("parse_api_key_fields names each bad field", "[unit][edge][admin]") {
  using row = std::pair<const char*, const char*>;
  const auto [body, field] = GENERATE(
    row{R"({"pool_id": 5})", "pool_id"}, row{R"({"display_name": ""})", "display_name"},
    row{R"({"display_name": null})", "display_name"},
    row{R"({"expires_at": "tomorrow"})", "expires_at"}, row{R"({"expires_at": 17})", "expires_at"},
    row{R"({"secret": "x"})", "secret"}, row{R"({"policy": []})", "policy"},
    row{R"({"policy": {"colour": 1}})", "policy.colour"},
    row{R"({"policy": {"allowed_models": "gpt-5"}})", "policy.allowed_models"},
    row{R"({"policy": {"allowed_models": ["gpt-5", 3]}})", "policy.allowed_models"},
    row{R"({"policy": {"allowed_models": [""]}})", "policy.allowed_models"},
    row{R"({"policy": {"enforced_model": ""}})", "policy.enforced_model"},
    row{R"({"policy": {"max_reasoning_effort": "extreme"}})", "policy.max_reasoning_effort"},
    row{R"({"policy": {"enforced_reasoning_effort": "max"}})", "policy.enforced_reasoning_effort"},
    row{R"({"policy": {"max_requests_per_minute": 0}})", "policy.max_requests_per_minute"},
    row{R"({"policy": {"max_requests_per_minute": 1.5}})", "policy.max_requests_per_minute"},
    row{R"({"policy": {"max_requests_per_minute": 4294967296}})", "policy.max_requests_per_minute"},
    row{R"({"policy": {"max_tokens_per_day": -1}})", "policy.max_tokens_per_day"},
    row{R"({"policy": {"max_tokens_per_week": "100"}})", "policy.max_tokens_per_week"});
  CAPTURE(body);
  auto result = parse_api_key_fields(nlohmann::json::parse(body));
  REQUIRE_FALSE(result);
  auto errors = field_errors(result.error());
  CHECK(errors.count(field) == 1);
}

TEST_CASE("pool and key names refuse control characters naming the field",
          "[unit][edge][admin][admin_input]") {
  for (const auto& bad : control_samples) {
    CAPTURE(bad);
    auto pool = parse_pool_fields(json{{"name", bad}});
    REQUIRE_FALSE(pool);
    CHECK(field_errors_of(pool.error()).at("name")
          == std::string{domain::control_characters_message});
    auto key = parse_api_key_fields(json{{"display_name", bad}});
    REQUIRE_FALSE(key);
    CHECK(field_errors_of(key.error()).at("display_name")
          == std::string{domain::control_characters_message});
    CHECK_FALSE(domain::clean_display_text(bad, 100));
  }
  CHECK(domain::clean_display_text("  Team A  ", 100) == std::string{"Team A"});
}
