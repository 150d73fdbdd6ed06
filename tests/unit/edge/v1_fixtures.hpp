#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/upstream/sse_parser.hpp"

namespace cxp::test::v1 {

/// A file under tests/unit/edge/fixtures/v1 (CXP_V1_FIXTURES is set by CMake).
inline std::string read_fixture(const std::string& name) {
  std::ifstream in{std::string{CXP_V1_FIXTURES} + "/" + name, std::ios::binary};
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline nlohmann::json json_fixture(const std::string& name) {
  auto parsed = nlohmann::json::parse(read_fixture(name), nullptr, false);
  REQUIRE(!parsed.is_discarded());
  return parsed;
}

/// The `data:` payloads of a recorded SSE transcript, parsed.
inline std::vector<nlohmann::json> sse_fixture(const std::string& name) {
  actors::sse_parser parser;
  std::vector<nlohmann::json> events;
  for (auto& event : parser.feed(read_fixture("sse/" + name))) {
    auto parsed = nlohmann::json::parse(event.data, nullptr, false);
    if (parsed.is_object()) {
      events.push_back(std::move(parsed));
    }
  }
  REQUIRE(!events.empty());
  return events;
}

/// The `data:` payloads a translator wrote ("[DONE]" kept as the string "[DONE]").
inline std::vector<nlohmann::json> sse_payloads(const std::string& text) {
  actors::sse_parser parser;
  std::vector<nlohmann::json> out;
  for (auto& event : parser.feed(text)) {
    if (event.data == "[DONE]") {
      out.emplace_back("[DONE]");
      continue;
    }
    auto parsed = nlohmann::json::parse(event.data, nullptr, false);
    REQUIRE(parsed.is_object());
    out.push_back(std::move(parsed));
  }
  return out;
}

/// Checks that every member of `expected` is in `actual` with the same value (objects are
/// compared member-wise, recursively; arrays and scalars exactly).
inline void check_subset(const nlohmann::json& actual, const nlohmann::json& expected,
                         const std::string& path = "") {
  if (!expected.is_object()) {
    INFO(path);
    CHECK(actual == expected);
    return;
  }
  REQUIRE(actual.is_object());
  for (const auto& [name, value] : expected.items()) {
    INFO(path + "/" + name);
    REQUIRE(actual.contains(name));
    check_subset(actual[name], value, path + "/" + name);
  }
}

} // namespace cxp::test::v1
