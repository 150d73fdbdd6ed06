#include "persistence/audit/audit_repository.hpp"

#include "persistence/db/column_table.hpp"
#include "persistence/db/filtered_query.hpp"
#include "persistence/db/select_rows.hpp"

namespace cxp::persistence {

namespace {

constexpr auto event_table = make_column_table(
  col<&audit_event_row::id>("id"), col<&audit_event_row::occurred_at>("occurred_at"),
  col<&audit_event_row::actor_type>("actor_type"), col<&audit_event_row::actor_id>("actor_id"),
  col<&audit_event_row::action>("action"), col<&audit_event_row::target_type>("target_type"),
  col<&audit_event_row::target_id>("target_id"), col<&audit_event_row::pool_id>("pool_id"),
  col<&audit_event_row::outcome>("outcome"), col<&audit_event_row::client_ip>("client_ip"),
  col<&audit_event_row::details>("details"));

} // namespace

void audit_repository::record_in(soci::session& sql, const audit_event_row& event) {
  insert_row(sql, "audit_events", event_table, event);
}

caf::expected<void> audit_repository::record(const audit_event_row& event) {
  return db_.run([&](soci::session& sql) { record_in(sql, event); });
}

caf::expected<std::vector<audit_event_row>> audit_repository::list(const audit_filter& filter) {
  return db_.run([&](soci::session& sql) {
    filtered_query query{"SELECT " + event_table.select_list() + " FROM audit_events"};
    if (filter.id) {
      query.where_equal("id", *filter.id);
    }
    if (filter.outcome) {
      query.where_equal("outcome", *filter.outcome);
    }
    if (filter.action) {
      query.where_equal("action", *filter.action);
    }
    if (filter.actor_id) {
      query.where_equal("actor_id", *filter.actor_id);
    }
    if (filter.pool_id) {
      query.where_equal("pool_id", *filter.pool_id);
    }
    if (filter.visible_pool_ids && !query.where_in("pool_id", *filter.visible_pool_ids)) {
      return std::vector<audit_event_row>{};
    }
    if (filter.before_cursor) {
      const auto bar = filter.before_cursor->find('|');
      const auto id =
        bar == std::string::npos ? std::string{} : filter.before_cursor->substr(bar + 1);
      query.where_before("occurred_at", "id", filter.before_cursor->substr(0, bar), id);
    }
    query.append(" ORDER BY occurred_at DESC, id DESC LIMIT " + std::to_string(filter.limit));
    return select_rows(sql, query.sql(), query.values(),
                       [](const soci::row& row) { return event_table.read(row); });
  });
}

} // namespace cxp::persistence
