#include <string>

#include <catch2/catch.hpp>

#include "common/errc.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/pools/pool_service.hpp"

using namespace cxp;
using namespace cxp::domain;

namespace {

const std::string valid_key = "sk-cxp-0123456789ab-" + std::string(43, 'A');

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
