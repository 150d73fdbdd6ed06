#include "domain/routing/routing_record.hpp"

#include <algorithm>
#include <map>

#include "common/encoding.hpp"

namespace cxp::domain {

namespace {

/// `served` or `failed` with a reason, from an attempt row's outcome and error code.
std::pair<std::string, std::string> ending_of(const persistence::request_attempt_row& attempt) {
  if (attempt.outcome == "succeeded") {
    return {"served", ""};
  }
  if (attempt.outcome == "cancelled") {
    return {"served", "cancelled"};
  }
  return {"failed", attempt.error_code.value_or(attempt.outcome)};
}

} // namespace

std::vector<routed_candidate>
merge_routing(const std::vector<routing_decision>& decisions,
              const std::vector<persistence::request_attempt_row>& attempts) {
  std::vector<routed_candidate> out;
  std::map<std::string, size_t> index;
  for (const auto& decision : decisions) {
    for (const auto& considered : decision.candidates) {
      auto [it, added] = index.try_emplace(considered.account_id, out.size());
      if (added) {
        out.push_back({considered.account_id, "skipped", "", decision.attempt});
      }
      auto& entry = out[it->second];
      // A decided account (granted or failed at checkout) keeps that over a later skip.
      if (!added && entry.outcome != "skipped" && considered.outcome == "skipped") {
        continue;
      }
      entry.attempt = decision.attempt;
      entry.reason = considered.reason;
      entry.outcome = considered.outcome == "skipped"  ? "skipped"
                      : considered.outcome == "failed" ? "failed"
                                                       : "chosen";
    }
  }
  for (const auto& attempt : attempts) {
    if (!attempt.account_id) {
      continue;
    }
    auto [it, added] = index.try_emplace(*attempt.account_id, out.size());
    if (added) {
      out.push_back({*attempt.account_id, "", "", attempt.attempt_number});
    }
    auto& entry = out[it->second];
    auto [outcome, reason] = ending_of(attempt);
    entry.outcome = std::move(outcome);
    entry.reason = std::move(reason);
    entry.attempt = attempt.attempt_number;
  }
  for (auto& entry : out) {
    if (entry.outcome == "chosen") {
      entry.outcome = "failed";
      entry.reason = "not_attempted";
    }
  }
  return out;
}

std::optional<std::string> routing_json(const std::vector<routed_candidate>& candidates) {
  if (candidates.empty()) {
    return std::nullopt;
  }
  // Written directly (keys in the order nlohmann would sort them): once per request.
  std::string out = R"({"candidates":[)";
  const size_t kept = std::min(candidates.size(), max_routed_candidates);
  for (size_t i = 0; i < kept; ++i) {
    const auto& candidate = candidates[i];
    out += i == 0 ? R"({"account_id":)" : R"(,{"account_id":)";
    append_json_string(out, candidate.account_id);
    out += R"(,"attempt":)" + std::to_string(candidate.attempt) + R"(,"outcome":)";
    append_json_string(out, candidate.outcome);
    out += R"(,"reason":)";
    if (candidate.reason.empty()) {
      out += "null";
    } else {
      append_json_string(out, candidate.reason);
    }
    out += '}';
  }
  out += ']';
  if (candidates.size() > kept) {
    out += R"(,"omitted":)" + std::to_string(candidates.size() - kept);
  }
  out += '}';
  return out;
}

} // namespace cxp::domain
