#include "common/json_input.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using cxp::check_fields;
using cxp::json_kind;
using cxp::nesting_within;
using cxp::parse_untrusted;
using nlohmann::json;

TEST_CASE("nesting_within counts arrays and objects but not brackets inside strings",
          "[json_input]") {
  CHECK(nesting_within(R"({"a":[1,{"b":2}]})", 3));
  CHECK_FALSE(nesting_within(R"({"a":[1,{"b":2}]})", 2));
  CHECK(nesting_within(R"({"a":"[[[[[[{{{{\"[["})", 1));
  CHECK(nesting_within(std::string(200, ']'), 1));
  CHECK_FALSE(nesting_within(std::string(100'000, '['), 128));
}

TEST_CASE("parse_untrusted refuses deep nesting before any recursive walk", "[json_input]") {
  json out;
  const auto deep = "{\"input\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  auto problem = parse_untrusted(deep, out);
  REQUIRE(problem);
  CHECK(problem->message == "JSON nested deeper than 128 levels");
  CHECK(out.is_null());

  const auto at_limit = std::string(128, '[') + std::string(128, ']');
  CHECK_FALSE(parse_untrusted(at_limit, out));
  CHECK(out.is_array());
}

TEST_CASE("parse_untrusted reports text that is not JSON", "[json_input]") {
  json out;
  auto problem = parse_untrusted("{\"model\": ", out);
  REQUIRE(problem);
  CHECK(problem->message == "body is not valid JSON");
  CHECK_FALSE(parse_untrusted(R"({"model":"gpt-5.5"})", out));
  CHECK(out["model"] == "gpt-5.5");
}

TEST_CASE("check_fields names the first field of the wrong type", "[json_input]") {
  for (const auto* stream : {R"("yes")", "5", "[]", "{}"}) {
    auto body = json::parse(std::string{R"({"model":"m","stream":)"} + stream + "}");
    auto check = check_fields(body, {{"model", json_kind::string}, {"stream", json_kind::boolean}});
    REQUIRE(check.problem);
    CHECK(check.problem->field == "stream");
    CHECK(check.problem->message == "'stream' must be a boolean");
  }
}

TEST_CASE("check_fields treats a null declared field as absent", "[json_input]") {
  auto body = json::parse(R"({"model":"m","stream":null,"other":null})");
  auto check = check_fields(body, {{"stream", json_kind::boolean}});
  CHECK_FALSE(check.problem);
  CHECK(check.erased_nulls);
  CHECK_FALSE(body.contains("stream"));
  CHECK(body.contains("other"));
  CHECK(body.value("stream", false) == false);
}

TEST_CASE("check_fields accepts each kind and refuses a body that is not an object",
          "[json_input]") {
  auto body =
    json::parse(R"({"b":true,"s":"x","n":1.5,"i":3,"o":{},"a":[],"sa":"x","so":{"k":1}})");
  auto check = check_fields(body, {{"b", json_kind::boolean},
                                   {"s", json_kind::string},
                                   {"n", json_kind::number},
                                   {"i", json_kind::integer},
                                   {"o", json_kind::object},
                                   {"a", json_kind::array},
                                   {"sa", json_kind::string_or_array},
                                   {"so", json_kind::string_or_object}});
  CHECK_FALSE(check.problem);
  CHECK_FALSE(check.erased_nulls);

  auto integer = json::parse(R"({"i":1.5})");
  CHECK(check_fields(integer, {{"i", json_kind::integer}}).problem);

  auto array = json::parse("[1]");
  auto refused = check_fields(array, {{"model", json_kind::string}});
  REQUIRE(refused.problem);
  CHECK(refused.problem->message == "body must be a JSON object");
}

TEST_CASE("printable_json stays valid JSON with every control character escaped", "[json_input]") {
  json value = {{"name", "\x1b]0;pwned\x07 \x7f \xc2\x9b"
                         "2J"},
                {"bad", "\xff"},
                {"n", 1}};
  const auto printed = cxp::printable_json(value);
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

TEST_CASE("parse_untrusted_outline builds the top level and stubs the bulky members",
          "[json_input]") {
  constexpr std::array<std::string_view, 3> bulky = {"input", "instructions", "tools"};
  const std::string body =
    R"({"model":"gpt-5.5","stream":true,"reasoning":{"effort":"high"},)"
    R"("input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],)"
    R"("instructions":"be brief","tools":[{"type":"function"}],)"
    R"("max_output_tokens":5,"store":null})";
  nlohmann::json outline;
  REQUIRE_FALSE(cxp::parse_untrusted_outline(body, outline, bulky));
  nlohmann::json expected = nlohmann::json::parse(body);
  expected["input"] = nlohmann::json::array();
  expected["instructions"] = "";
  expected["tools"] = nlohmann::json::array();
  CHECK(outline == expected);
}

TEST_CASE("parse_untrusted_outline checks the bulky members' text all the same", "[json_input]") {
  constexpr std::array<std::string_view, 1> bulky = {"input"};
  nlohmann::json out;
  CHECK(cxp::parse_untrusted_outline(R"({"input":[1,}],"model":"m"})", out, bulky));
  CHECK(cxp::parse_untrusted_outline(R"({"input":[[[[1]]]]})", out, bulky, 3));
  CHECK(cxp::parse_untrusted_outline(R"({"input":"x"} trailing)", out, bulky));
  REQUIRE_FALSE(cxp::parse_untrusted_outline(R"([{"input":[1]}])", out, bulky));
  CHECK(out == nlohmann::json::parse(R"([{"input":[1]}])")); // only the top level is outlined
}

namespace {

/// Both parses of `text`: the fast one and nlohmann's reference.
struct both_parses {
  std::optional<cxp::json_problem> fast_problem;
  std::optional<cxp::json_problem> reference_problem;
  json fast;
  json reference;
};

both_parses parse_both(std::string_view text) {
  both_parses out;
  out.fast_problem = parse_untrusted(text, out.fast);
  out.reference_problem = cxp::detail::parse_untrusted_reference(text, out.reference);
  return out;
}

} // namespace

TEST_CASE("parse_untrusted builds what nlohmann builds, number types included", "[json_input]") {
  const std::string huge_string(2 << 20, 'x'); // beyond the thread parser's kept capacity
  const std::vector<std::string> documents = {
    R"({"a":1,"b":-1,"c":0,"d":-0,"e":1.5,"f":-0.0,"g":1e3,"h":9223372036854775807})",
    R"({"max":18446744073709551615,"beyond":18446744073709551616,"min":-9223372036854775808})",
    R"({"below":-9223372036854775809,"tiny":1e-400})",
    R"({"k":1,"k":2,"nested":{"k":[true,false,null,"s",{}]}})",
    R"(["\u00e9\ud83d\ude00","tab\t","quote\"","\/"])",
    R"("just a string")",
    "  \n 42 \t ",
    "null",
    R"({"text":")" + huge_string + R"("})",
  };
  for (const auto& text : documents) {
    INFO(text.substr(0, 120));
    auto parses = parse_both(text);
    REQUIRE_FALSE(parses.fast_problem);
    REQUIRE_FALSE(parses.reference_problem);
    CHECK(parses.fast == parses.reference);
    CHECK(parses.fast.dump() == parses.reference.dump());
    if (parses.fast.is_object() && parses.fast.contains("a")) {
      CHECK(parses.fast["a"].is_number_unsigned());
      CHECK(parses.fast["b"].is_number_integer());
      CHECK_FALSE(parses.fast["b"].is_number_unsigned());
    }
  }
}

TEST_CASE("parse_untrusted refuses what nlohmann refuses, with its message", "[json_input]") {
  const std::vector<std::string> refused = {
    "",
    "   ",
    "{\"a\":1",
    R"({"a":1} {"b":2})",
    R"({"a":01})",
    R"({"a":1e400})",
    R"({'a':1})",
    R"({"a":1,})",
    "{\"a\":\"\x01\"}",         // an unescaped control character
    "{\"a\":\"\xff\"}",         // not UTF-8
    "{\"a\":\"\xed\xa0\x80\"}", // a UTF-8 encoded surrogate
    R"({"a":"\ud800"})",        // a lone surrogate escape
    "{\"a\":1} // comment",
    std::string(129, '[') + std::string(129, ']'),
  };
  for (const auto& text : refused) {
    INFO(text);
    auto parses = parse_both(text);
    REQUIRE(parses.reference_problem);
    REQUIRE(parses.fast_problem);
    CHECK(parses.fast_problem->message == parses.reference_problem->message);
  }
}

TEST_CASE("parse_untrusted_outline's fast path builds what the SAX outline builds",
          "[json_input]") {
  constexpr std::array<std::string_view, 3> bulky = {"input", "instructions", "tools"};
  for (const std::string body :
       {R"({"model":"m","input":[1,{"a":2}],"instructions":"long","tools":{"x":1}})",
        R"({"input":5,"instructions":null,"tools":true,"model":"m"})",
        R"({"input":"a","input":[1]})", R"([{"input":[1]}])", R"(17)"}) {
    INFO(body);
    json fast;
    json reference;
    REQUIRE_FALSE(cxp::parse_untrusted_outline(body, fast, bulky));
    REQUIRE_FALSE(cxp::detail::parse_untrusted_outline_reference(body, reference, bulky));
    CHECK(fast == reference);
    CHECK(fast.dump() == reference.dump());
  }
}

TEST_CASE("object_type_of reads the top-level type of an object and nothing else", "[json_input]") {
  CHECK(cxp::object_type_of(R"({"type":"response.created","response":{}})")
        == std::optional<std::string>{"response.created"});
  CHECK(cxp::object_type_of(R"({"response":{"type":"x"}})") == std::nullopt);
  CHECK(cxp::object_type_of(R"({"type":5})") == std::nullopt);
  CHECK(cxp::object_type_of(R"(["type"])") == std::nullopt);
  CHECK(cxp::object_type_of(R"({"type":"x")") == std::nullopt);
  CHECK(cxp::object_type_of(R"({"type":"a","type":"b"})") == std::optional<std::string>{"b"});
  CHECK(cxp::object_type_of(R"({"type":"a","type":5})") == std::nullopt);
  CHECK(cxp::object_type_of(R"({"type":"x","n":99999999999999999999999})")
        == std::optional<std::string>{"x"}); // refused by the fast parser, read by nlohmann
}
