#include "common/encoding.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

TEST_CASE("hex and base64 round-trip arbitrary bytes", "[unit][common][encoding]") {
  const std::string data{"\x00\xff\x10hello\x7f", 10};
  CHECK(cxp::to_hex("\x01\xab") == "01ab");
  CHECK(cxp::from_hex(cxp::to_hex(data)) == data);
  CHECK_FALSE(cxp::from_hex("abc"));
  CHECK_FALSE(cxp::from_hex("zz"));
  CHECK(cxp::to_base64("foobar") == "Zm9vYmFy");
  CHECK(cxp::to_base64("fo") == "Zm8=");
  CHECK(cxp::to_base64url("\xfb\xff") == "-_8");
  CHECK(cxp::from_base64(cxp::to_base64(data)) == data);
  CHECK(cxp::from_base64(cxp::to_base64url(data)) == data);
  CHECK_FALSE(cxp::from_base64("a$b="));
}

TEST_CASE("uuids are version 4, canonical and distinct", "[unit][common][encoding]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = cxp::new_uuid();
    CHECK(cxp::is_uuid(id));
    CHECK(id[14] == '4');
    CHECK(std::string_view{"89ab"}.find(id[19]) != std::string_view::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
  CHECK_FALSE(cxp::is_uuid("not-a-uuid"));
}

TEST_CASE("time-ordered uuids are version 7, carry their millisecond and sort by it",
          "[unit][common][encoding]") {
  using namespace std::chrono;
  const system_clock::time_point at{milliseconds{1'764'950'400'123}}; // 2025-12-05T16:00:00.123Z
  const auto id = cxp::new_time_ordered_uuid(at);
  CHECK(cxp::is_uuid(id));
  CHECK(id.substr(0, 13) == "019aef3d-dc7b"); // 0x019AEF3DDC7B = 1764950400123
  CHECK(id[14] == '7');
  CHECK(std::string_view{"89ab"}.find(id[19]) != std::string_view::npos);
  CHECK(cxp::new_time_ordered_uuid(at) != id); // the same millisecond, other random bits
  std::vector<std::string> later;
  for (int i = 0; i < 50; ++i) {
    later.push_back(cxp::new_time_ordered_uuid(at + milliseconds{i + 1}));
  }
  CHECK(std::is_sorted(later.begin(), later.end()));
  CHECK(id < later.front());
}

TEST_CASE("put_decimal_digits writes a fixed-width, zero-padded field in place", "[encoding]") {
  std::string text = "[....]";
  cxp::put_decimal_digits(text.data() + 5, 42, 4);
  CHECK(text == "[0042]");
  cxp::put_decimal_digits(text.data() + 5, 123456, 4); // only the last four digits fit
  CHECK(text == "[3456]");
  cxp::put_decimal_digits(text.data() + 5, 0, 4);
  CHECK(text == "[0000]");
}

TEST_CASE("ascii_lowercase and trim_whitespace normalise header tokens", "[encoding]") {
  CHECK(cxp::ascii_lowercase("GZip, Chunked") == "gzip, chunked");
  CHECK(cxp::ascii_lowercase("\xC3\x84x") == "\xC3\x84x");
  CHECK(cxp::trim_whitespace(" \t gzip \r\n") == "gzip");
  CHECK(cxp::trim_whitespace("   ").empty());
}

TEST_CASE("escape_controls leaves nothing a terminal would interpret", "[unit][common][encoding]") {
  CHECK(cxp::escape_controls("\x1b[31mred\x1b[0m") == "\\u001b[31mred\\u001b[0m");
  CHECK(cxp::escape_controls(std::string{"a\0b", 3}) == "a\\u0000b");
  CHECK(cxp::escape_controls("del\x7f c1\xc2\x9b") == "del\\u007f c1\\u009b");
  CHECK(cxp::escape_controls("bad \xff byte") == "bad \\xff byte");
  CHECK(cxp::escape_controls("é 日本 😀") == "é 日本 😀");
  CHECK(cxp::escape_controls("two\nlines") == "two\\u000alines");
  CHECK(cxp::escape_controls("two\nlines", true) == "two\nlines");
  for (const auto& bad : {std::string{"\x1b[31mred\x1b[0m"}, std::string{"a\0b", 3},
                          std::string{"c1 \xc2\x80"}, std::string{"line\nbreak"}}) {
    CAPTURE(bad);
    CHECK_FALSE(cxp::has_control_characters(cxp::escape_controls(bad)));
  }
}

TEST_CASE("ascii_iequals ignores ASCII case only and is_base64url_char takes the url alphabet",
          "[unit][common][encoding]") {
  CHECK(cxp::ascii_iequals("Bearer ", "bEARER "));
  CHECK(cxp::ascii_iequals("GPT-5", "gpt-5"));
  CHECK_FALSE(cxp::ascii_iequals("gpt-5", "gpt-5-codex"));
  CHECK_FALSE(cxp::ascii_iequals("\xC3\x84", "\xC3\xA4"));
  for (char c : std::string{"azAZ09-_"}) {
    CHECK(cxp::is_base64url_char(c));
  }
  for (char c : std::string{"+/=. \x80"}) {
    CHECK_FALSE(cxp::is_base64url_char(c));
  }
}

TEST_CASE("append_json_string writes a literal that parses back to the text",
          "[unit][common][encoding]") {
  const auto literal = [](std::string_view text) {
    std::string out = "[";
    cxp::append_json_string(out, text);
    return out + "]";
  };
  for (const std::string& text :
       {std::string{}, std::string{"plain"}, std::string{"quote \" and backslash \\"},
        std::string{"controls \n\t\x01\x1f and DEL \x7f"}, std::string{"nul \0 inside", 12},
        std::string{"\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"}}) {
    INFO(text);
    const auto written = literal(text);
    CHECK(nlohmann::json::parse(written)[0].get<std::string>() == text);
  }
  CHECK(literal("a\"b") == R"(["a\"b"])");
  CHECK(literal("\x01") == R"(["\u0001"])");
  // Not UTF-8: each bad byte becomes U+FFFD, and the literal is still valid JSON.
  const auto replaced = literal("ok \xff \xc3 \xed\xa0\x80");
  CHECK(nlohmann::json::parse(replaced)[0]
        == "ok \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}
