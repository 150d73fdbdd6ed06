#include "domain/request_logs/request_log_service.hpp"

#include <array>
#include <charconv>
#include <map>
#include <tuple>

#include "common/clock.hpp"
#include "domain/pools/pool_service.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> log_outcomes = {"succeeded", "failed", "rejected",
                                                          "cancelled"};
constexpr int32_t lowest_status = 100;
constexpr int32_t highest_status = 599;

template <class T>
json nullable(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

std::optional<int32_t> parse_status(const std::string& text) {
  int32_t status = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec != std::errc{} || end != text.data() + text.size() || status < lowest_status
      || status > highest_status) {
    return std::nullopt;
  }
  return status;
}

json attempt_json(const persistence::request_attempt_row& attempt) {
  return {{"attempt_number", attempt.attempt_number},
          {"account_id", nullable(attempt.account_id)},
          {"started_at", attempt.started_at},
          {"status_code", nullable(attempt.status_code)},
          {"outcome", attempt.outcome},
          {"error_code", nullable(attempt.error_code)},
          {"latency_ms", nullable(attempt.latency_ms)},
          {"ttfb_ms", nullable(attempt.ttfb_ms)}};
}

/// The stored routing record as the API shows it (`label` null until `add_labels`), or null for
/// a row without one (written before it existed, or refused before routing).
json routing_of(const persistence::request_log_row& row) {
  if (!row.routing) {
    return nullptr;
  }
  auto stored = json::parse(*row.routing, nullptr, false);
  if (stored.is_discarded() || !stored.is_object() || !stored.contains("candidates")
      || !stored["candidates"].is_array()) {
    return nullptr;
  }
  json out{{"candidates", json::array()}, {"omitted", stored.value("omitted", 0)}};
  for (const auto& candidate : stored["candidates"]) {
    if (!candidate.is_object() || !candidate.contains("account_id")) {
      continue;
    }
    out["candidates"].push_back({{"account_id", candidate["account_id"]},
                                 {"label", nullptr},
                                 {"outcome", candidate.value("outcome", "skipped")},
                                 {"reason", candidate.value("reason", json())},
                                 {"attempt", candidate.value("attempt", 0)}});
  }
  return out;
}

/// Sets each routing candidate's `label` from its account as it is now.
void add_labels(service_context& context, json& routing) {
  if (!routing.is_object()) {
    return;
  }
  std::vector<std::string> ids;
  for (const auto& candidate : routing["candidates"]) {
    if (candidate["account_id"].is_string()) {
      ids.push_back(candidate["account_id"].get<std::string>());
    }
  }
  auto labels = persistence::request_log_repository{context.db}.account_labels(ids);
  if (!labels) {
    return; // labels are a convenience: the ids still answer the question
  }
  for (auto& candidate : routing["candidates"]) {
    if (candidate["account_id"].is_string()) {
      if (auto it = labels->find(candidate["account_id"].get<std::string>()); it != labels->end()) {
        candidate["label"] = it->second;
      }
    }
  }
}

/// The repository filter for `query`, or the validation error naming every bad parameter.
caf::expected<persistence::request_log_filter> to_filter(const principal& who,
                                                         const request_log_query& query) {
  std::map<std::string, std::string> errors;
  if (auto page = validate_page(query.page); !page) {
    errors = field_errors_of(page.error());
  }
  persistence::request_log_filter filter;
  filter.pool_id = query.pool_id;
  filter.api_key_id = query.api_key_id;
  filter.account_id = query.account_id;
  filter.model = query.model;
  if (query.outcome && !is_one_of(log_outcomes, *query.outcome)) {
    errors["outcome"] = "must be succeeded, failed, rejected or cancelled";
  }
  filter.outcome = query.outcome;
  if (query.status_code) {
    filter.status_code = parse_status(*query.status_code);
    if (!filter.status_code) {
      errors["status_code"] = "must be an HTTP status from 100 to 599";
    }
  }
  for (auto [value, name, out] :
       {std::tuple{&query.from, "from", &filter.from}, std::tuple{&query.to, "to", &filter.to}}) {
    if (!*value) {
      continue;
    }
    if (auto at = parse_iso8601(**value)) {
      *out = to_iso8601(*at); // stored times are in this form, so they compare as text
    } else {
      errors[name] = "must be an ISO-8601 UTC time such as 2026-11-24T10:00:00Z";
    }
  }
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  if (!who.is_owner()) {
    filter.visible_pool_ids = who.pool_ids;
  }
  if (query.page.cursor) {
    filter.before = decode_page_cursor(*query.page.cursor);
  }
  filter.limit = query.page.limit + 1;
  return filter;
}

} // namespace

json to_json(const persistence::request_log_row& row, bool with_attempts) {
  json out = {{"id", row.id},
              {"occurred_at", row.occurred_at},
              {"pool_id", nullable(row.pool_id)},
              {"api_key_id", nullable(row.api_key_id)},
              {"account_id", nullable(row.account_id)},
              {"route", row.route},
              {"transport", row.transport},
              {"model", nullable(row.model)},
              {"service_tier", nullable(row.service_tier)},
              {"status_code", row.status_code},
              {"outcome", row.outcome},
              {"error_code", nullable(row.error_code)},
              {"attempt_count", row.attempt_count},
              {"latency_ms", nullable(row.latency_ms)},
              {"ttfb_ms", nullable(row.ttfb_ms)},
              {"input_tokens", nullable(row.input_tokens)},
              {"cached_input_tokens", nullable(row.cached_input_tokens)},
              {"output_tokens", nullable(row.output_tokens)},
              {"reasoning_tokens", nullable(row.reasoning_tokens)},
              {"cost_micros", nullable(row.cost_micros)},
              {"pricing_status", nullable(row.pricing_status)},
              {"pricing_snapshot_id", nullable(row.pricing_snapshot_id)},
              {"session_key_hash", nullable(row.session_key_hash)},
              {"client_ip", nullable(row.client_ip)},
              {"client", nullable(row.client)}};
  if (with_attempts) {
    out["attempts"] = json::array();
    for (const auto& attempt : row.attempts) {
      out["attempts"].push_back(attempt_json(attempt));
    }
    out["routing"] = routing_of(row);
  }
  return out;
}

caf::expected<json> request_log_service::list(const principal& who,
                                              const request_log_query& query) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  auto filter = to_filter(who, query);
  if (!filter) {
    return filter.error();
  }
  auto rows = persistence::request_log_repository{context_.db}.list(*filter);
  if (!rows) {
    return rows.error();
  }
  json out = {{"items", json::array()}, {"next_cursor", nullptr}};
  const auto limit = static_cast<size_t>(query.page.limit);
  for (size_t i = 0; i < rows->size() && i < limit; ++i) {
    out["items"].push_back(to_json((*rows)[i], false));
  }
  if (rows->size() > limit) {
    const auto& last = (*rows)[limit - 1];
    out["next_cursor"] = encode_page_cursor(last.occurred_at, last.id);
  }
  return out;
}

caf::expected<json> request_log_service::get(const principal& who, const std::string& id) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  auto row = persistence::request_log_repository{context_.db}.find(id);
  if (!row) {
    return row.error();
  }
  // Another pool's row (or one of no pool) is as absent to an instance admin as a missing one.
  if (!*row || (!who.is_owner() && (!(*row)->pool_id || !who.can_manage_pool(*(*row)->pool_id)))) {
    return make_error(errc::not_found, "request log not found");
  }
  auto out = to_json(**row, true);
  add_labels(context_, out["routing"]);
  return out;
}

} // namespace cxp::domain
