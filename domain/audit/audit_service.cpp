#include "domain/audit/audit_service.hpp"

namespace cxp::domain {

caf::expected<nlohmann::json> audit_service::list(const principal& who, const audit_query& query) {
  persistence::audit_filter filter;
  filter.action = query.action;
  filter.actor_id = query.actor_id;
  filter.pool_id = query.pool_id;
  filter.before_cursor = query.page.cursor;
  filter.limit = query.page.limit + 1;
  if (!who.is_owner()) {
    filter.visible_pool_ids = who.pool_ids;
  }
  auto rows = persistence::audit_repository{context_.db}.list(filter);
  if (!rows) {
    return rows.error();
  }
  nlohmann::json out = {{"items", nlohmann::json::array()}, {"next_cursor", nullptr}};
  const auto limit = static_cast<size_t>(query.page.limit);
  for (size_t i = 0; i < rows->size() && i < limit; ++i) {
    const auto& row = (*rows)[i];
    auto details = nlohmann::json::parse(row.details, nullptr, false);
    out["items"].push_back(
      {{"id", row.id},
       {"occurred_at", row.occurred_at},
       {"actor_type", row.actor_type},
       {"actor_id", row.actor_id ? nlohmann::json(*row.actor_id) : nlohmann::json(nullptr)},
       {"action", row.action},
       {"target_type",
        row.target_type ? nlohmann::json(*row.target_type) : nlohmann::json(nullptr)},
       {"target_id", row.target_id ? nlohmann::json(*row.target_id) : nlohmann::json(nullptr)},
       {"pool_id", row.pool_id ? nlohmann::json(*row.pool_id) : nlohmann::json(nullptr)},
       {"outcome", row.outcome},
       {"client_ip", row.client_ip ? nlohmann::json(*row.client_ip) : nlohmann::json(nullptr)},
       {"details", details.is_discarded() ? nlohmann::json::object() : details}});
  }
  if (rows->size() > limit) {
    const auto& last = (*rows)[limit - 1];
    out["next_cursor"] = last.occurred_at + "|" + last.id;
  }
  return out;
}

} // namespace cxp::domain
