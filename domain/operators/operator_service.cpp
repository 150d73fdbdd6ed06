#include "domain/operators/operator_service.hpp"

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/operators/operator_rules.hpp"

namespace cxp::domain {

using namespace detail;

nlohmann::json to_json(const operator_view& view) {
  return {
    {"id", view.id},
    {"email", view.email},
    {"display_name", view.display_name},
    {"role", view.role},
    {"status", view.status},
    {"password_change_required", view.password_change_required},
    {"totp_status", view.totp_status},
    {"pool_ids", view.pool_ids},
    {"last_login_at", view.last_login_at ? nlohmann::json(*view.last_login_at) : nlohmann::json()},
    {"created_at", view.created_at},
    {"updated_at", view.updated_at}};
}

nlohmann::json to_json(const invite_view& view) {
  return {{"id", view.id},
          {"email", view.email},
          {"role", view.role},
          {"status", view.status},
          {"pool_ids", view.pool_ids},
          {"expires_at", view.expires_at},
          {"created_at", view.created_at},
          {"accepted_at", view.accepted_at ? nlohmann::json(*view.accepted_at) : nlohmann::json()}};
}

operator_service::operator_service(service_context& context)
    : context_(context),
      repository_(context.db) {}

caf::expected<std::string> operator_service::bootstrap_status() {
  auto done = repository_.is_bootstrapped();
  if (!done) {
    return std::move(done.error());
  }
  return std::string{*done ? "completed" : "pending"};
}

caf::expected<operator_view> operator_service::bootstrap(const principal& who,
                                                         const bootstrap_request& request) {
  std::map<std::string, std::string> problems;
  const auto email = normalize_email(request.email);
  const auto display_name = trim(request.display_name);
  if (auto problem = email_problem(request.email, email)) {
    problems["email"] = *problem;
  }
  if (auto problem = display_name_problem(request.display_name, display_name)) {
    problems["display_name"] = *problem;
  }
  if (auto problem = password_problem(request.password)) {
    problems["password"] = *problem;
  }
  if (!problems.empty()) {
    return make_validation_error(std::move(problems));
  }
  // Checked before hashing so a completed instance does not spend Argon2 on every attempt; the
  // insert below is what actually decides a race.
  auto done = repository_.is_bootstrapped();
  if (!done) {
    return std::move(done.error());
  }
  if (*done) {
    return make_error(errc::conflict, "bootstrap already completed");
  }
  auto created = new_operator_row(email, display_name, request.password, std::string{owner_role},
                                  to_iso8601(context_.clock.now()));
  if (!created) {
    return std::move(created.error());
  }
  auto& row = *created;
  auto audit = audit_event(context_, who, "operator.bootstrap");
  audit.target_type = "operator";
  audit.target_id = row.id;
  audit.details = nlohmann::json{{"email", email}, {"role", row.role}}.dump();
  if (auto stored = repository_.insert_bootstrap_owner(row, audit); !stored) {
    return std::move(stored.error());
  }
  return to_view(row);
}

caf::expected<std::vector<operator_view>> operator_service::list(const principal& who) {
  if (!who.is_owner()) {
    return forbidden();
  }
  auto rows = repository_.list_operators();
  if (!rows) {
    return std::move(rows.error());
  }
  std::vector<operator_view> views;
  views.reserve(rows->size());
  for (const auto& row : *rows) {
    views.push_back(to_view(row));
  }
  return views;
}

caf::expected<operator_view> operator_service::get(const principal& who, const std::string& id) {
  if (!who.is_owner() && who.operator_id != id) {
    return forbidden();
  }
  auto row = repository_.find_by_id(id);
  if (!row) {
    return std::move(row.error());
  }
  if (!*row) {
    return make_error(errc::not_found, "operator not found");
  }
  return to_view(**row);
}

caf::expected<operator_view> operator_service::update(const principal& who, const std::string& id,
                                                      const operator_fields& fields) {
  if (!who.is_owner()) {
    return forbidden();
  }
  std::map<std::string, std::string> problems;
  std::optional<std::string> display_name;
  if (fields.display_name) {
    display_name = trim(*fields.display_name);
    if (auto problem = display_name_problem(*fields.display_name, *display_name)) {
      problems["display_name"] = *problem;
    }
  }
  if (fields.role && !is_valid_role(*fields.role)) {
    problems["role"] = "must be instance_owner or instance_admin";
  }
  if (fields.status && *fields.status != "active" && *fields.status != "disabled") {
    problems["status"] = "must be active or disabled";
  }
  if (!problems.empty()) {
    return make_validation_error(std::move(problems));
  }
  auto current = repository_.find_by_id(id);
  if (!current) {
    return std::move(current.error());
  }
  if (!*current) {
    return make_error(errc::not_found, "operator not found");
  }
  const auto role = fields.role.value_or((*current)->role);
  persistence::operator_update change{
    id, display_name, fields.role, fields.status, std::nullopt, to_iso8601(context_.clock.now())};
  if (role == owner_role) {
    // Owners see every pool; stale assignments would silently return on a later demotion.
    change.pool_ids = std::vector<std::string>{};
  } else if (fields.pool_ids) {
    auto pools = check_pools(repository_, role, *fields.pool_ids);
    if (!pools) {
      return std::move(pools.error());
    }
    change.pool_ids = std::move(*pools);
  }
  auto audit = audit_event(context_, who, "operator.update");
  audit.target_type = "operator";
  audit.target_id = id;
  nlohmann::json details = nlohmann::json::object();
  if (change.display_name) {
    details["display_name"] = *change.display_name;
  }
  if (change.role) {
    details["role"] = *change.role;
  }
  if (change.status) {
    details["status"] = *change.status;
  }
  if (change.pool_ids) {
    details["pool_ids"] = *change.pool_ids;
  }
  audit.details = details.dump();
  if (auto stored = repository_.update_operator(change, audit); !stored) {
    return std::move(stored.error());
  }
  return get(who, id);
}

caf::expected<operator_view>
operator_service::create_operator(const principal& who, const std::string& email,
                                  const std::string& display_name, const std::string& role,
                                  const std::string& temp_password,
                                  const std::vector<std::string>& pool_ids) {
  if (!who.is_owner()) {
    return forbidden();
  }
  std::map<std::string, std::string> problems;
  const auto normalized = normalize_email(email);
  const auto name = trim(display_name);
  if (auto problem = email_problem(email, normalized)) {
    problems["email"] = *problem;
  }
  if (auto problem = display_name_problem(display_name, name)) {
    problems["display_name"] = *problem;
  }
  if (!is_valid_role(role)) {
    problems["role"] = "must be instance_owner or instance_admin";
  }
  if (auto problem = password_problem(temp_password)) {
    problems["password"] = *problem;
  }
  if (!problems.empty()) {
    return make_validation_error(std::move(problems));
  }
  auto pools = check_pools(repository_, role, pool_ids);
  if (!pools) {
    return std::move(pools.error());
  }
  auto created =
    new_operator_row(normalized, name, temp_password, role, to_iso8601(context_.clock.now()));
  if (!created) {
    return std::move(created.error());
  }
  auto& row = *created;
  row.password_change_required = true;
  row.pool_ids = std::move(*pools);
  auto audit = audit_event(context_, who, "operator.create");
  audit.target_type = "operator";
  audit.target_id = row.id;
  audit.details =
    nlohmann::json{{"email", row.email}, {"role", row.role}, {"pool_ids", row.pool_ids}}.dump();
  if (auto stored = repository_.insert_operator(row, audit); !stored) {
    return std::move(stored.error());
  }
  return get(who, row.id);
}

} // namespace cxp::domain
