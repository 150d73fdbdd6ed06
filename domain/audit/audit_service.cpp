#include "domain/audit/audit_service.hpp"

#include "common/errc.hpp"

namespace cxp::domain {

namespace {

nlohmann::json nullable(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const persistence::audit_event_row& row) {
  auto details = nlohmann::json::parse(row.details, nullptr, false);
  return {{"id", row.id},
          {"occurred_at", row.occurred_at},
          {"actor_type", row.actor_type},
          {"actor_id", nullable(row.actor_id)},
          {"action", row.action},
          {"target_type", nullable(row.target_type)},
          {"target_id", nullable(row.target_id)},
          {"pool_id", nullable(row.pool_id)},
          {"outcome", row.outcome},
          {"client_ip", nullable(row.client_ip)},
          {"details", details.is_discarded() ? nlohmann::json::object() : details}};
}

persistence::audit_filter scoped_filter(const principal& who) {
  persistence::audit_filter filter;
  if (!who.is_owner()) {
    filter.visible_pool_ids = who.pool_ids;
  }
  return filter;
}

} // namespace

caf::expected<nlohmann::json> audit_service::list(const principal& who, const audit_query& query) {
  auto filter = scoped_filter(who);
  filter.action = query.action;
  filter.actor_id = query.actor_id;
  filter.pool_id = query.pool_id;
  filter.outcome = query.outcome;
  filter.before_cursor = query.page.cursor;
  filter.limit = query.page.limit + 1;
  auto rows = persistence::audit_repository{context_.db}.list(filter);
  if (!rows) {
    return rows.error();
  }
  nlohmann::json out = {{"items", nlohmann::json::array()}, {"next_cursor", nullptr}};
  const auto limit = static_cast<size_t>(query.page.limit);
  for (size_t i = 0; i < rows->size() && i < limit; ++i) {
    out["items"].push_back(to_json((*rows)[i]));
  }
  if (rows->size() > limit) {
    const auto& last = (*rows)[limit - 1];
    out["next_cursor"] = last.occurred_at + "|" + last.id;
  }
  return out;
}

caf::expected<nlohmann::json> audit_service::get(const principal& who, const std::string& id) {
  auto filter = scoped_filter(who);
  filter.id = id;
  filter.limit = 1;
  auto rows = persistence::audit_repository{context_.db}.list(filter);
  if (!rows) {
    return rows.error();
  }
  if (rows->empty()) {
    return make_error(errc::not_found, "audit event not found");
  }
  return to_json(rows->front());
}

} // namespace cxp::domain
