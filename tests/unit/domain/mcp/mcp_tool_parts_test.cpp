#include <catch2/catch.hpp>

#include "domain/mcp/mcp_quota_view.hpp"
#include "domain/mcp/mcp_selector.hpp"
#include "domain/mcp/mcp_tool_input.hpp"
#include "domain/mcp/mcp_tools.hpp"

using namespace cxp;
using nlohmann::json;

namespace {

struct named {
  std::string id, slug, name;
};

std::vector<std::string> keys_of(const named& item) {
  return {item.id, item.slug, item.name};
}

} // namespace

TEST_CASE("a selector matches exactly first, then by prefix, else lists candidates", "[mcp]") {
  const std::vector<named> pools = {
    {"p-1", "team", "Team pool"}, {"p-2", "team-b", "Team B"}, {"p-3", "solo", "Solo"}};
  CHECK(domain::select_one(pools, "TEAM", keys_of).match == size_t{0}); // exact beats prefix
  CHECK(domain::select_one(pools, "sol", keys_of).match == size_t{2});
  CHECK(domain::select_one(pools, "p-3", keys_of).match == size_t{2});
  const auto ambiguous = domain::select_one(pools, "p-", keys_of);
  CHECK_FALSE(ambiguous.match);
  CHECK(ambiguous.candidates == std::vector<size_t>{0, 1, 2});
  const auto none = domain::select_one(pools, "zzz", keys_of);
  CHECK_FALSE(none.match);
  CHECK(none.candidates.empty());
}

TEST_CASE("an ambiguous selector returns at most ten candidates", "[mcp]") {
  std::vector<named> many;
  for (int i = 0; i < 25; ++i) {
    many.push_back({"id-" + std::to_string(i), "s" + std::to_string(i), "n"});
  }
  CHECK(domain::select_one(many, "id-", keys_of).candidates.size()
        == domain::max_selector_candidates);
}

TEST_CASE("tool arguments are checked against the tool's own schema", "[mcp]") {
  const auto* tool = domain::find_mcp_tool("codex_pooler_list_upstream_quotas");
  REQUIRE(tool != nullptr);
  SECTION("defaults fill in") {
    const domain::mcp_tool_input input{json::object(), tool->input_schema};
    CHECK(input.problems().empty());
    CHECK(input.integer("limit") == 50);
    CHECK_FALSE(input.integer("offset"));
  }
  SECTION("every problem is reported, by name") {
    const domain::mcp_tool_input input{
      {{"limit", 500}, {"routing_usable", "yes"}, {"colour", "red"}, {"status", ""}},
      tool->input_schema};
    const auto& problems = input.problems();
    REQUIRE(problems.size() == 4);
    CHECK(std::count(problems.begin(), problems.end(), "limit: must be between 1 and 100") == 1);
    CHECK(std::count(problems.begin(), problems.end(), "routing_usable: must be true or false")
          == 1);
    CHECK(std::count(problems.begin(), problems.end(), "colour: is not an argument of this tool")
          == 1);
    CHECK(std::count(problems.begin(), problems.end(), "status: must be 1 to 200 characters") == 1);
  }
  SECTION("a required argument must be there") {
    const auto* get = domain::find_mcp_tool("codex_pooler_get_pool");
    REQUIRE(get != nullptr);
    const domain::mcp_tool_input input{json::object(), get->input_schema};
    CHECK(input.problems() == std::vector<std::string>{"selector: is required"});
  }
  SECTION("arguments must be an object") {
    const domain::mcp_tool_input input{json::array(), tool->input_schema};
    CHECK(input.problems() == std::vector<std::string>{"arguments: must be an object"});
  }
}

TEST_CASE("every tool is described for an agent and refuses unknown arguments", "[mcp]") {
  const auto& catalog = domain::mcp_tool_catalog();
  CHECK(catalog.size() == 20);
  for (const auto& tool : catalog) {
    INFO(tool.name);
    CHECK(tool.name.rfind("codex_pooler_", 0) == 0);
    CHECK(tool.description.find("Use when") != std::string::npos);
    CHECK(tool.description.find("Returns: ") != std::string::npos);
    CHECK(tool.description.find("Never returns") != std::string::npos);
    CHECK(tool.input_schema["additionalProperties"] == false);
  }
}

TEST_CASE("an account's quota view says whether routing can use it", "[mcp]") {
  const auto now = *parse_iso8601("2026-12-05T12:00:00Z");
  domain::account_view account;
  account.id = "acc-1";
  account.status = "active";
  auto window = [](std::string limit, int minutes, double used, std::string reset,
                   std::string observed) {
    persistence::quota_window_row row;
    row.limit_id = std::move(limit);
    row.window_minutes = minutes;
    row.window_kind = minutes == 10080 ? "secondary" : "primary";
    row.used_percent = used;
    row.reset_at = std::move(reset);
    row.observed_at = std::move(observed);
    return row;
  };
  SECTION("without evidence it is usable but its freshness is missing") {
    const auto view = domain::quota_view(account, {}, now);
    CHECK(view["freshness_status"] == "missing");
    CHECK(view["routing_usable"] == true);
    CHECK(view["exhausted_until"].is_null());
  }
  SECTION("an exhausted main window makes it unusable until its reset") {
    const auto view = domain::quota_view(
      account,
      {window("codex", 300, 100, "2026-12-05T14:00:00.000000Z", "2026-12-05T11:55:00.000000Z"),
       window("codex", 10080, 40, "2026-12-09T00:00:00.000000Z", "2026-12-05T11:55:00.000000Z")},
      now);
    CHECK(view["freshness_status"] == "fresh");
    CHECK(view["routing_usable"] == false);
    CHECK(view["exhausted_until"] == "2026-12-05T14:00:00.000000Z");
    CHECK(view["windows"].size() == 2);
  }
  SECTION("an exhausted window whose reset passed, or of another family, does not block") {
    const auto view = domain::quota_view(
      account,
      {window("codex", 300, 100, "2026-12-05T11:00:00.000000Z", "2026-12-05T10:00:00.000000Z"),
       window("codex_bengalfox", 300, 100, "2026-12-05T15:00:00.000000Z",
              "2026-12-05T10:00:00.000000Z")},
      now);
    CHECK(view["freshness_status"] == "stale");
    CHECK(view["routing_usable"] == true);
  }
  SECTION("a paused account is never usable") {
    account.status = "paused";
    CHECK(domain::quota_view(account, {}, now)["routing_usable"] == false);
  }
}
