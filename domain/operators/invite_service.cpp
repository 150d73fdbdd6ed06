#include "domain/operators/invite_service.hpp"

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/operators/operator_rules.hpp"
#include "domain/settings/settings_service.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::domain {

using namespace detail;

secret<std::string> invite_accept_url(std::string_view login_base_url,
                                      const secret<std::string>& token) {
  while (!login_base_url.empty() && login_base_url.back() == '/') {
    login_base_url.remove_suffix(1);
  }
  return secret<std::string>{std::string{login_base_url} + "/invite#token=" + token.expose()};
}

invite_service::invite_service(service_context& context)
    : context_(context),
      repository_(context.db) {}

caf::expected<created_invite> invite_service::create_invite(const principal& who,
                                                            const invite_request& request) {
  if (!who.is_owner()) {
    return forbidden();
  }
  std::map<std::string, std::string> problems;
  const auto email = normalize_email(request.email);
  if (auto problem = email_problem(request.email, email)) {
    problems["email"] = *problem;
  }
  if (!is_valid_role(request.role)) {
    problems["role"] = "must be instance_owner or instance_admin";
  }
  auto settings = load_instance_settings(context_.db);
  if (!settings) {
    return std::move(settings.error());
  }
  const auto& defaults = settings->sections().operators;
  const auto ttl_hours = request.ttl_hours.value_or(static_cast<int>(defaults.invite_ttl_hours));
  if (ttl_hours < 1 || ttl_hours > max_invite_ttl_hours) {
    problems["ttl_hours"] = "must be between 1 and " + std::to_string(max_invite_ttl_hours);
  }
  if (!problems.empty()) {
    return make_validation_error(std::move(problems));
  }
  auto pools = check_pools(repository_, request.role, request.pool_ids);
  if (!pools) {
    return std::move(pools.error());
  }
  auto token = new_token();
  const auto now = context_.clock.now();
  persistence::invite_row row;
  row.id = new_uuid();
  row.token_hash = persistence::hmac_sha256(context_.token_hash_key, token.expose());
  row.email = email;
  row.role = request.role;
  row.pool_ids = std::move(*pools);
  row.status = "active";
  row.expires_at = to_iso8601(now + std::chrono::hours{ttl_hours});
  if (!who.operator_id.empty()) {
    row.created_by = who.operator_id;
  }
  row.created_at = to_iso8601(now);
  auto audit = audit_event(context_, who, "invite.create");
  audit.target_type = "invite";
  audit.target_id = row.id;
  audit.details = nlohmann::json{{"email", row.email},
                                 {"role", row.role},
                                 {"pool_ids", row.pool_ids},
                                 {"expires_at", row.expires_at}}
                    .dump();
  if (auto stored = repository_.insert_invite(row, audit); !stored) {
    return std::move(stored.error());
  }
  auto url = invite_accept_url(defaults.login_base_url, token);
  return created_invite{to_view(row, row.created_at), std::move(token), std::move(url)};
}

caf::expected<std::vector<invite_view>> invite_service::list_invites(const principal& who) {
  if (!who.is_owner()) {
    return forbidden();
  }
  auto rows = repository_.list_invites();
  if (!rows) {
    return std::move(rows.error());
  }
  const auto now = to_iso8601(context_.clock.now());
  std::vector<invite_view> views;
  views.reserve(rows->size());
  for (const auto& row : *rows) {
    views.push_back(to_view(row, now));
  }
  return views;
}

caf::expected<invite_view> invite_service::revoke_invite(const principal& who,
                                                         const std::string& id) {
  if (!who.is_owner()) {
    return forbidden();
  }
  const auto now = to_iso8601(context_.clock.now());
  auto audit = audit_event(context_, who, "invite.revoke");
  audit.target_type = "invite";
  audit.target_id = id;
  auto existing = repository_.find_invite(id);
  if (!existing) {
    return std::move(existing.error());
  }
  if (!*existing) {
    return make_error(errc::not_found, "invite not found");
  }
  if (auto stored = repository_.revoke_invite(id, now, audit); !stored) {
    return std::move(stored.error());
  }
  auto row = std::move(**existing);
  row.status = "revoked";
  row.revoked_at = now;
  return to_view(row, now);
}

caf::expected<operator_view> invite_service::accept_invite(std::string_view raw_token,
                                                           const std::string& display_name,
                                                           const std::string& password) {
  std::map<std::string, std::string> problems;
  const auto name = trim(display_name);
  if (auto problem = display_name_problem(display_name, name)) {
    problems["display_name"] = *problem;
  }
  if (auto problem = password_problem(password)) {
    problems["password"] = *problem;
  }
  if (!problems.empty()) {
    return make_validation_error(std::move(problems));
  }
  const auto not_usable = [] {
    return make_error(errc::not_found, "invite unknown, used, revoked or expired");
  };
  if (raw_token.empty()) {
    return not_usable();
  }
  auto invite = repository_.find_invite_by_token_hash(
    persistence::hmac_sha256(context_.token_hash_key, raw_token));
  if (!invite) {
    return std::move(invite.error());
  }
  const auto now = to_iso8601(context_.clock.now());
  if (!*invite || (*invite)->status != "active" || (*invite)->expires_at <= now) {
    return not_usable();
  }
  auto fresh = new_operator_row((*invite)->email, name, password, (*invite)->role, now);
  if (!fresh) {
    return std::move(fresh.error());
  }
  auto& row = *fresh;
  if (row.role != owner_role) {
    row.pool_ids = (*invite)->pool_ids;
  }
  principal invitee{principal::kind::operator_session, row.id, row.role, row.pool_ids, {}};
  auto audit = audit_event(context_, invitee, "invite.accept");
  audit.target_type = "invite";
  audit.target_id = (*invite)->id;
  audit.details =
    nlohmann::json{{"email", row.email}, {"role", row.role}, {"operator_id", row.id}}.dump();
  if (auto stored = repository_.accept_invite((*invite)->id, row, now, audit); !stored) {
    return std::move(stored.error());
  }
  auto created = repository_.find_by_id(row.id);
  if (!created) {
    return std::move(created.error());
  }
  if (!*created) {
    return make_error(errc::internal_error, "accepted operator vanished");
  }
  return to_view(**created);
}

} // namespace cxp::domain
