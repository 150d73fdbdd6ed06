#include "domain/routing/routing_record.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cxp::domain;
using cxp::persistence::request_attempt_row;

namespace {

request_attempt_row attempt(int32_t number, const std::string& account, const std::string& outcome,
                            std::optional<std::string> error_code = std::nullopt) {
  request_attempt_row row;
  row.attempt_number = number;
  row.account_id = account;
  row.outcome = outcome;
  row.error_code = std::move(error_code);
  return row;
}

const routed_candidate& entry(const std::vector<routed_candidate>& all, const std::string& id) {
  for (const auto& candidate : all) {
    if (candidate.account_id == id) {
      return candidate;
    }
  }
  FAIL("no entry for " << id);
  return all.front();
}

} // namespace

TEST_CASE("the routing record says which account served and why the others were skipped",
          "[unit][domain][routing]") {
  const std::vector<routing_decision> decisions{{1,
                                                 {{"a", "chosen", ""},
                                                  {"b", "skipped", "ranked_lower"},
                                                  {"c", "skipped", "paused"},
                                                  {"d", "skipped", "quota_exhausted"}}}};
  const auto record = merge_routing(decisions, {attempt(1, "a", "succeeded")});
  REQUIRE(record.size() == 4);
  CHECK(record[0].account_id == "a"); // in the order routing considered them
  CHECK(record[0].outcome == "served");
  CHECK(record[0].reason.empty());
  CHECK(record[1].outcome == "skipped");
  CHECK(record[1].reason == "ranked_lower");
  CHECK(record[2].reason == "paused");
  CHECK(record[3].reason == "quota_exhausted");
}

TEST_CASE("a failover records the failed account and the next decision",
          "[unit][domain][routing]") {
  const std::vector<routing_decision> decisions{
    {1, {{"a", "chosen", ""}, {"b", "skipped", "ranked_lower"}, {"c", "skipped", "paused"}}},
    {2, {{"b", "chosen", ""}, {"c", "skipped", "paused"}}}};
  const auto record = merge_routing(
    decisions, {attempt(1, "a", "retryable_failed", "upstream_502"), attempt(2, "b", "succeeded")});
  REQUIRE(record.size() == 3);
  CHECK(entry(record, "a").outcome == "failed");
  CHECK(entry(record, "a").reason == "upstream_502");
  CHECK(entry(record, "a").attempt == 1);
  CHECK(entry(record, "b").outcome == "served");
  CHECK(entry(record, "b").attempt == 2);
  CHECK(entry(record, "c").outcome == "skipped");
  CHECK(entry(record, "c").attempt == 2);
}

TEST_CASE("a checkout failure inside one lease stays failed", "[unit][domain][routing]") {
  // The pool chose a, its checkout failed (reauth), then it chose b for the same lease.
  const std::vector<routing_decision> decisions{{1,
                                                 {{"a", "chosen", ""},
                                                  {"b", "skipped", "ranked_lower"},
                                                  {"a", "failed", "reauth_required"},
                                                  {"b", "chosen", ""}}}};
  const auto record = merge_routing(decisions, {attempt(1, "b", "succeeded")});
  CHECK(entry(record, "a").outcome == "failed");
  CHECK(entry(record, "a").reason == "reauth_required");
  CHECK(entry(record, "b").outcome == "served");
}

TEST_CASE("a refresh retry on the same account ends with its last attempt",
          "[unit][domain][routing]") {
  const auto record = merge_routing(
    {{1, {{"a", "chosen", ""}}}},
    {attempt(1, "a", "retryable_failed", "token_expired"), attempt(2, "a", "succeeded")});
  REQUIRE(record.size() == 1);
  CHECK(record[0].outcome == "served");
  CHECK(record[0].attempt == 2);
}

TEST_CASE("a denial leaves every account skipped and a grant without an attempt failed",
          "[unit][domain][routing]") {
  auto denied = merge_routing(
    {{1, {{"a", "skipped", "quota_exhausted"}, {"b", "skipped", "circuit_open"}}}}, {});
  CHECK(denied[0].outcome == "skipped");
  CHECK(denied[1].reason == "circuit_open");
  auto unattempted = merge_routing({{1, {{"a", "chosen", ""}}}}, {});
  CHECK(unattempted[0].outcome == "failed");
  CHECK(unattempted[0].reason == "not_attempted");
  auto cancelled = merge_routing({{1, {{"a", "chosen", ""}}}}, {attempt(1, "a", "cancelled")});
  CHECK(cancelled[0].outcome == "served");
  CHECK(cancelled[0].reason == "cancelled");
}

TEST_CASE("the stored routing JSON is bounded and holds ids and codes only",
          "[unit][domain][routing]") {
  CHECK_FALSE(routing_json({}).has_value());
  std::vector<routed_candidate> many;
  for (size_t i = 0; i < max_routed_candidates + 5; ++i) {
    many.push_back({"account-" + std::to_string(i), "skipped", "paused", 1});
  }
  many.front() = {"account-0", "served", "", 1};
  auto text = routing_json(many);
  REQUIRE(text);
  auto stored = nlohmann::json::parse(*text);
  REQUIRE(stored["candidates"].size() == max_routed_candidates);
  CHECK(stored["omitted"] == 5);
  CHECK(stored["candidates"][0]
        == nlohmann::json{
          {"account_id", "account-0"}, {"outcome", "served"}, {"reason", nullptr}, {"attempt", 1}});
}

TEST_CASE("the routing JSON is the document nlohmann would write, odd characters included",
          "[unit][domain][routing]") {
  const std::vector<routed_candidate> candidates{
    {"3f1c0a52-0000-4000-8000-000000000001", "served", "", 2},
    {"acct \"quoted\" \\ \x01", "failed", "upstream_\xc3\xa9rror", 1},
    {"b", "skipped", "circuit_open", 0}};
  nlohmann::json expected{{"candidates", nlohmann::json::array()}};
  for (const auto& candidate : candidates) {
    expected["candidates"].push_back(
      {{"account_id", candidate.account_id},
       {"outcome", candidate.outcome},
       {"reason", candidate.reason.empty() ? nlohmann::json() : nlohmann::json(candidate.reason)},
       {"attempt", candidate.attempt}});
  }
  auto text = routing_json(candidates);
  REQUIRE(text);
  CHECK(nlohmann::json::parse(*text) == expected);
  // Plain ids and codes come out byte for byte as nlohmann's dump, so stored rows do not change.
  const std::vector<routed_candidate> plain{candidates[0], candidates[2]};
  nlohmann::json plain_expected{
    {"candidates", {expected["candidates"][0], expected["candidates"][2]}}};
  CHECK(*routing_json(plain) == plain_expected.dump());
}
