#include <string>

#include <catch2/catch.hpp>

#include "common/errc.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/pools/pool_service.hpp"

using namespace cxp;
using namespace cxp::domain;

namespace {

const std::string valid_key = "sk-cxp-0123456789ab-" + std::string(43, 'A');

std::map<std::string, std::string> field_errors(const caf::error& err) {
  CHECK(to_errc(err) == errc::validation_failed);
  return field_errors_of(err);
}

} // namespace

TEST_CASE("parse_api_key accepts the generated shape and returns the stored prefix",
          "[unit][domain][admin]") {
  auto parsed = parse_api_key(valid_key);
  REQUIRE(parsed);
  CHECK(parsed->prefix == "sk-cxp-0123456789ab");
  CHECK(parse_api_key("sk-cxp-abcdefabcdef-abc_DEF-0123456789abcdefghijklmnopqrstuvwxy"));
}

TEST_CASE("parse_api_key rejects every other shape", "[unit][domain][admin]") {
  const auto secret_part = std::string(43, 'A');
  const std::string rejected = GENERATE_COPY(values<std::string>(
    {std::string{}, std::string{"sk-cxp-"}, "sk-cxp-0123456789ab", "sk-cxp-0123456789ab-",
     "sk-cxp-0123456789AB-" + secret_part,                 // upper-case hex
     "sk-cxp-0123456789ag-" + secret_part,                 // not hex
     "sk-cxp-0123456789a-" + secret_part + "A",            // 11 hex digits
     "sk-cxp-0123456789abc-" + secret_part.substr(1),      // 13 hex digits
     "sk-cxp-0123456789ab_" + secret_part,                 // wrong separator
     "sk-cxp-0123456789ab-" + secret_part.substr(1),       // secret too short
     "sk-cxp-0123456789ab-" + secret_part + "A",           // secret too long
     "sk-cxp-0123456789ab-" + secret_part.substr(1) + "=", // padding
     "sk-cxp-0123456789ab-" + secret_part.substr(1) + "+", // standard base64
     "SK-CXP-0123456789ab-" + secret_part, "sk-proj-0123456789ab-" + secret_part, " " + valid_key,
     valid_key + "\n"}));
  CAPTURE(rejected);
  CHECK_FALSE(parse_api_key(rejected));
}

TEST_CASE("parse_pool_fields reads every known field", "[unit][domain][admin]") {
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
          "[unit][domain][admin]") {
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

TEST_CASE("derive_slug lower-cases and collapses everything but ASCII letters and digits",
          "[unit][domain][admin]") {
  CHECK(derive_slug("Team A") == "team-a");
  CHECK(derive_slug("  Hello,  World!! 2026 ") == "hello-world-2026");
  CHECK(derive_slug("Équipe été") == "quipe-t");
  CHECK(derive_slug("日本") == "");
  CHECK(derive_slug(std::string(80, 'a')).size() == max_pool_slug_length);
  CHECK(derive_slug(std::string(62, 'a') + " b") == std::string(62, 'a'));
  CHECK(derive_slug(std::string(61, 'a') + " b") == std::string(61, 'a') + "-b");
}

TEST_CASE("parse_api_key_fields reads the key fields and a nested policy",
          "[unit][domain][admin]") {
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

TEST_CASE("parse_api_key_fields records explicit nulls as cleared members",
          "[unit][domain][admin]") {
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

TEST_CASE("parse_api_key_fields names each bad field", "[unit][domain][admin]") {
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

TEST_CASE(
  "a merged policy rejects combined reasoning limits and an enforced model outside the list",
  "[unit][domain][admin]") {
  std::map<std::string, std::string> errors;
  api_key_policy policy;
  policy.max_reasoning_effort = "high";
  policy.enforced_reasoning_effort = "low";
  policy.allowed_models = std::vector<std::string>{"gpt-5"};
  policy.enforced_model = "gpt-4.1";
  check_api_key_policy(policy, errors);
  CHECK(errors.count("policy.enforced_reasoning_effort") == 1);
  CHECK(errors.count("policy.enforced_model") == 1);

  errors.clear();
  policy.enforced_reasoning_effort.reset();
  policy.enforced_model = "gpt-5";
  check_api_key_policy(policy, errors);
  CHECK(errors.empty());

  errors.clear();
  policy.allowed_models = std::vector<std::string>{};
  check_api_key_policy(policy, errors);
  CHECK(errors.count("policy.enforced_model") == 1);
}

TEST_CASE("an api key view renders its policy and never a hash", "[unit][domain][admin]") {
  api_key_view view{"id",
                    "pool",
                    "name",
                    "sk-cxp-0123456789ab",
                    "active",
                    2,
                    std::nullopt,
                    std::nullopt,
                    std::nullopt,
                    api_key_policy{},
                    "2026-01-01T00:00:00.000000Z",
                    "2026-01-01T00:00:00.000000Z"};
  view.policy.allowed_models = std::vector<std::string>{};
  auto json = to_json(view);
  CHECK(json["key_prefix"] == "sk-cxp-0123456789ab");
  CHECK(json["policy"]["allowed_models"] == nlohmann::json::array());
  CHECK(json["policy"]["enforced_model"].is_null());
  CHECK(json["expires_at"].is_null());
  CHECK_FALSE(json.contains("key_hash"));
  CHECK_FALSE(json.contains("key"));

  created_api_key created{view, secret<std::string>{valid_key}};
  CHECK(to_json(created)["key"] == valid_key);
}

TEST_CASE("page cursors round-trip and reject garbage", "[unit][domain][admin]") {
  const auto cursor =
    encode_page_cursor("2026-11-24T10:00:00.000000Z", "0b6f3a52-8f7e-4d59-9b6e-3f1c2d4e5a6b");
  auto decoded = decode_page_cursor(cursor);
  REQUIRE(decoded);
  CHECK(decoded->first == "2026-11-24T10:00:00.000000Z");
  CHECK(decoded->second == "0b6f3a52-8f7e-4d59-9b6e-3f1c2d4e5a6b");
  CHECK_FALSE(decode_page_cursor("not a cursor"));
  CHECK_FALSE(validate_page(page_request{0, std::nullopt}));
  CHECK_FALSE(validate_page(page_request{201, std::nullopt}));
  CHECK_FALSE(validate_page(page_request{10, std::string{"garbage"}}));
  CHECK(validate_page(page_request{10, cursor}));
}
