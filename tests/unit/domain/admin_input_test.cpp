#include "domain/admin_input.hpp"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/errc.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/pools/pool_service.hpp"

using namespace cxp;
using namespace cxp::domain;
using json = nlohmann::json;

namespace {

std::map<std::string, std::string> errors_of(const admin_body& in) {
  auto error = in.error();
  REQUIRE(error);
  CHECK(to_errc(*error) == errc::validation_failed);
  return field_errors_of(*error);
}

/// Every control character class the admin input refuses, as UTF-8.
const std::vector<std::string> control_samples = {std::string{"a\0b", 3},
                                                  "\x1b[31mred\x1b[0m",
                                                  "tab\there",
                                                  "line\nbreak",
                                                  "del\x7f",
                                                  "c1 \xc2\x80",
                                                  "csi \xc2\x9b"
                                                  "31m",
                                                  "nel \xc2\x85"};

} // namespace

TEST_CASE("admin_body reads each type strictly and names every wrong field",
          "[unit][domain][admin][admin_input]") {
  const auto body = json::parse(R"({"label": 5, "name": null, "ttl_hours": "72",
    "pool_ids": ["a", 1], "role": true, "status": "active", "hours": 2.5, "big": 18446744073709551615,
    "note": null})");
  admin_body in{body};
  CHECK_FALSE(in.text("label"));
  CHECK_FALSE(in.text("name"));
  CHECK_FALSE(in.integer("ttl_hours", 1, 720));
  CHECK_FALSE(in.text_list("pool_ids"));
  CHECK_FALSE(in.text("role"));
  CHECK(in.text("status") == "active");
  CHECK_FALSE(in.integer("hours", 1, 720));
  CHECK_FALSE(in.integer("big", 1, 720));
  CHECK_FALSE(in.text("absent"));
  auto note = in.nullable_text("note");
  REQUIRE(note);
  CHECK_FALSE(*note);
  const auto errors = errors_of(in);
  CHECK(errors.at("label") == "must be a string");
  CHECK(errors.at("name") == "must be a string");
  CHECK(errors.at("ttl_hours") == "must be an integer between 1 and 720");
  CHECK(errors.at("pool_ids") == "must be a list of strings");
  CHECK(errors.at("role") == "must be a string");
  CHECK(errors.at("hours") == "must be an integer between 1 and 720");
  CHECK(errors.at("big") == "must be an integer between 1 and 720");
  CHECK(errors.count("status") == 0);
  CHECK(errors.count("absent") == 0);
  CHECK(errors.count("note") == 0);
  CHECK(errors.size() == 7);
}

TEST_CASE("admin_body reads well-typed fields and finds no error",
          "[unit][domain][admin][admin_input]") {
  const auto body =
    json::parse(R"({"email": "a@example.com", "ttl_hours": 720, "pool_ids": [], "label": "x"})");
  admin_body in{body};
  CHECK(in.text("email") == "a@example.com");
  CHECK(in.integer("ttl_hours", 1, 720) == 720);
  CHECK(in.text_list("pool_ids") == std::vector<std::string>{});
  CHECK(in.nullable_text("label") == std::optional<std::string>{"x"});
  in.reject_unknown({"email", "ttl_hours", "pool_ids", "label"});
  in.require("email");
  CHECK_FALSE(in.error());
}

TEST_CASE("admin_body requires, refuses unknown fields and non-object bodies",
          "[unit][domain][admin][admin_input]") {
  const auto body = json::parse(R"({"lable": "typo", "label": 5})");
  admin_body in{body};
  in.reject_unknown({"label"});
  in.require("label");
  in.require("missing");
  CHECK_FALSE(in.nullable_text("label"));
  auto errors = errors_of(in);
  CHECK(errors.at("lable") == "is not a known field");
  CHECK(errors.at("missing") == "is required");
  CHECK(errors.at("label") == "must be a string or null");

  admin_body array{json::array()};
  CHECK(errors_of(array).at("body") == "must be a JSON object");
}

TEST_CASE("display_text_problem refuses C0, DEL, C1 and invalid UTF-8",
          "[unit][domain][admin][admin_input]") {
  for (const auto& bad : control_samples) {
    CAPTURE(bad);
    CHECK(has_control_characters(bad));
    CHECK(display_text_problem(bad) == std::string{control_characters_message});
  }
  CHECK(display_text_problem("\xff\xfe") == std::string{"must be valid UTF-8"});
  CHECK(display_text_problem("\xc0\x80") == std::string{"must be valid UTF-8"});
  for (const auto& good : {"Team A", "Équipe été", "日本", "emoji 😀", "a@example.com", ""}) {
    CAPTURE(good);
    CHECK_FALSE(has_control_characters(good));
    CHECK_FALSE(display_text_problem(good));
  }
  CHECK(utf8_code_points("Équipe") == 6U);
  CHECK_FALSE(utf8_code_points("\xed\xa0\x80")); // a surrogate
}

TEST_CASE("escape_controls leaves nothing a terminal would interpret",
          "[unit][domain][admin][admin_input]") {
  CHECK(escape_controls("\x1b[31mred\x1b[0m") == "\\u001b[31mred\\u001b[0m");
  CHECK(escape_controls(std::string{"a\0b", 3}) == "a\\u0000b");
  CHECK(escape_controls("del\x7f c1\xc2\x9b") == "del\\u007f c1\\u009b");
  CHECK(escape_controls("bad \xff byte") == "bad \\xff byte");
  CHECK(escape_controls("é 日本 😀") == "é 日本 😀");
  CHECK(escape_controls("two\nlines") == "two\\u000alines");
  CHECK(escape_controls("two\nlines", true) == "two\nlines");
  for (const auto& bad : control_samples) {
    CAPTURE(bad);
    CHECK_FALSE(has_control_characters(escape_controls(bad)));
  }
}

TEST_CASE("printable_json stays valid JSON with every control character escaped",
          "[unit][domain][admin][admin_input]") {
  json value = {{"name", "\x1b]0;pwned\x07 \x7f \xc2\x9b"
                         "2J"},
                {"bad", "\xff"},
                {"n", 1}};
  const auto printed = printable_json(value);
  CHECK(printed.find('\x1b') == std::string::npos);
  CHECK(printed.find('\x7f') == std::string::npos);
  CHECK(printed.find("\xc2\x9b") == std::string::npos);
  CHECK(printed.find('\xff') == std::string::npos);
  CHECK(printed.find('\n') != std::string::npos); // still indented
  auto reparsed = json::parse(printed, nullptr, false);
  REQUIRE_FALSE(reparsed.is_discarded());
  CHECK(reparsed["name"]
        == "\x1b]0;pwned\x07 \x7f \xc2\x9b"
           "2J");
  CHECK(reparsed["bad"] == "\xef\xbf\xbd");
}

TEST_CASE("pool and key names refuse control characters naming the field",
          "[unit][domain][admin][admin_input]") {
  for (const auto& bad : control_samples) {
    CAPTURE(bad);
    auto pool = parse_pool_fields(json{{"name", bad}});
    REQUIRE_FALSE(pool);
    CHECK(field_errors_of(pool.error()).at("name") == std::string{control_characters_message});
    auto key = parse_api_key_fields(json{{"display_name", bad}});
    REQUIRE_FALSE(key);
    CHECK(field_errors_of(key.error()).at("display_name")
          == std::string{control_characters_message});
    CHECK_FALSE(clean_display_text(bad, 100));
  }
  CHECK(clean_display_text("  Team A  ", 100) == std::string{"Team A"});
}
