#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"

namespace cxp::domain {

struct audit_query {
  std::optional<std::string> action, actor_id, pool_id, outcome;
  page_request page;
};

/// Reads the audit log: owners see every event, instance admins only the events of their pools.
class audit_service {
public:
  explicit audit_service(service_context& context) : context_(context) {}

  /// `{"items": [...], "next_cursor": ...}`, newest first.
  caf::expected<nlohmann::json> list(const principal& who, const audit_query& query);

  /// One event, or `errc::not_found` (also for an event outside an instance admin's pools).
  caf::expected<nlohmann::json> get(const principal& who, const std::string& id);

private:
  service_context& context_;
};

} // namespace cxp::domain
