#include "persistence/audit/audit_repository.hpp"

#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"

namespace cxp::persistence {

void audit_repository::record_in(soci::session& sql, const audit_event_row& event) {
  nullable_use<std::string> actor_id{event.actor_id};
  nullable_use<std::string> target_type{event.target_type};
  nullable_use<std::string> target_id{event.target_id};
  nullable_use<std::string> pool_id{event.pool_id};
  nullable_use<std::string> client_ip{event.client_ip};
  sql << "INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, target_type, "
         "target_id, "
         "pool_id, outcome, client_ip, details) VALUES (:id, :occurred_at, :actor_type, :actor_id, "
         ":action, "
         ":target_type, :target_id, :pool_id, :outcome, :client_ip, :details)",
    soci::use(event.id), soci::use(event.occurred_at), soci::use(event.actor_type),
    soci::use(actor_id.value, actor_id.indicator), soci::use(event.action),
    soci::use(target_type.value, target_type.indicator),
    soci::use(target_id.value, target_id.indicator), soci::use(pool_id.value, pool_id.indicator),
    soci::use(event.outcome), soci::use(client_ip.value, client_ip.indicator),
    soci::use(event.details);
}

caf::expected<void> audit_repository::record(const audit_event_row& event) {
  return db_.run([&](soci::session& sql) { record_in(sql, event); });
}

caf::expected<std::vector<audit_event_row>> audit_repository::list(const audit_filter& filter) {
  return db_.run([&](soci::session& sql) {
    std::string query =
      "SELECT id, occurred_at, actor_type, actor_id, action, target_type, target_id, pool_id, "
      "outcome, client_ip, details FROM audit_events WHERE 1 = 1";
    std::vector<std::string> values;
    auto bind = [&](const std::string& clause, const std::string& value) {
      query += " AND " + clause + " :p" + std::to_string(values.size());
      values.push_back(value);
    };
    if (filter.action) {
      bind("action =", *filter.action);
    }
    if (filter.actor_id) {
      bind("actor_id =", *filter.actor_id);
    }
    if (filter.pool_id) {
      bind("pool_id =", *filter.pool_id);
    }
    if (filter.visible_pool_ids) {
      if (filter.visible_pool_ids->empty()) {
        return std::vector<audit_event_row>{};
      }
      query += " AND pool_id IN (";
      for (size_t i = 0; i < filter.visible_pool_ids->size(); ++i) {
        query += (i ? ", :p" : ":p") + std::to_string(values.size());
        values.push_back((*filter.visible_pool_ids)[i]);
      }
      query += ")";
    }
    if (filter.before_cursor) {
      const auto bar = filter.before_cursor->find('|');
      const auto at = filter.before_cursor->substr(0, bar);
      const auto id =
        bar == std::string::npos ? std::string{} : filter.before_cursor->substr(bar + 1);
      query += " AND (occurred_at < :p" + std::to_string(values.size()) + " OR (occurred_at = :p"
               + std::to_string(values.size() + 1) + " AND id < :p"
               + std::to_string(values.size() + 2) + "))";
      values.push_back(at);
      values.push_back(at);
      values.push_back(id);
    }
    query += " ORDER BY occurred_at DESC, id DESC LIMIT " + std::to_string(filter.limit);
    return select_rows(sql, query, values, [](const soci::row& row) {
      row_reader r{row};
      return audit_event_row{r.text(0), r.text(1),     r.text(2),     r.opt_text(3),
                             r.text(4), r.opt_text(5), r.opt_text(6), r.opt_text(7),
                             r.text(8), r.opt_text(9), r.text(10)};
    });
  });
}

} // namespace cxp::persistence
