#include "domain/onboarding/upstream_invite_service.hpp"

#include <map>

#include "common/encoding.hpp"
#include "domain/onboarding/onboarding_support.hpp"
#include "persistence/accounts/account_repository.hpp"

namespace cxp::domain {

using persistence::account_repository;
using persistence::onboarding_repository;
using persistence::unit_of_work;
using persistence::upstream_invite_row;
using namespace onboarding_detail;

namespace {

constexpr auto invite_lifetime = std::chrono::hours{24};
constexpr size_t token_bytes = 32;
constexpr size_t max_email_bytes = 254;
constexpr int max_listed = 200;
constexpr std::string_view invite_path = "/onboarding/invites/";

upstream_invite_view to_view(const upstream_invite_row& row, const std::string& now) {
  upstream_invite_view view;
  view.id = row.id;
  view.pool_id = row.pool_id;
  view.email = row.email;
  view.status = row.status == "active" && row.expires_at <= now ? "expired" : row.status;
  view.created_by = row.created_by;
  view.account_id = row.account_id;
  view.expires_at = row.expires_at;
  view.created_at = row.created_at;
  view.accepted_at = row.accepted_at;
  view.revoked_at = row.revoked_at;
  return view;
}

bool is_email(std::string_view email) {
  const auto at = email.find('@');
  return !email.empty() && email.size() <= max_email_bytes && at != std::string_view::npos && at > 0
         && at + 1 < email.size() && email.find('@', at + 1) == std::string_view::npos
         && email.find(' ') == std::string_view::npos && !has_control_characters(email);
}

void record(unit_of_work& sql, const service_context& context, const principal& who,
            std::string action, const upstream_invite_row& row, nlohmann::json details) {
  auto event = audit_event(context, who, std::move(action));
  event.target_type = "upstream_invite";
  event.target_id = row.id;
  event.pool_id = row.pool_id;
  details["email"] = row.email;
  event.details = details.dump();
  persistence::audit_repository::record_in(sql, event);
}

upstream_invite_row new_invite(const service_context& context, const principal& who,
                               const std::string& pool_id, const std::string& email,
                               const std::string& token) {
  const auto now = context.clock.now();
  upstream_invite_row row;
  row.id = new_uuid();
  row.pool_id = pool_id;
  row.email = email;
  row.token_hash = hash_invite_token(context, token);
  if (!who.operator_id.empty()) {
    row.created_by = who.operator_id;
  }
  row.expires_at = to_iso8601(now + invite_lifetime);
  row.created_at = to_iso8601(now);
  row.updated_at = row.created_at;
  return row;
}

caf::expected<upstream_invite_row> usable_invite(const service_context& context,
                                                 const std::string& token) {
  if (token.empty() || token.size() > 128) {
    return make_error(errc::invite_invalid, "malformed invite token");
  }
  auto row = context.db.transact([&](unit_of_work& sql) {
    return onboarding_repository::find_invite_by_token_hash_in(sql,
                                                               hash_invite_token(context, token));
  });
  if (!row) {
    return row.error();
  }
  if (!*row) {
    return make_error(errc::invite_invalid, "unknown invite token");
  }
  const auto status = to_view(**row, now_text(context)).status;
  if (status == "revoked") {
    return make_error(errc::invite_revoked, "invite revoked");
  }
  if (status == "expired") {
    return make_error(errc::invite_expired, "invite expired");
  }
  return std::move(**row);
}

} // namespace

nlohmann::json to_json(const upstream_invite_view& view) {
  auto optional = [](const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  return {{"id", view.id},
          {"pool_id", view.pool_id},
          {"email", view.email},
          {"status", view.status},
          {"created_by", optional(view.created_by)},
          {"account_id", optional(view.account_id)},
          {"expires_at", view.expires_at},
          {"created_at", view.created_at},
          {"accepted_at", optional(view.accepted_at)},
          {"revoked_at", optional(view.revoked_at)}};
}

nlohmann::json to_json(const invite_page_state& state) {
  return {{"email", state.invite.email},
          {"status", state.invite.status},
          {"expires_at", state.invite.expires_at},
          {"flow", state.flow ? to_json(*state.flow) : nlohmann::json(nullptr)}};
}

caf::expected<created_upstream_invite>
upstream_invite_service::create(const principal& who, const std::string& pool_id,
                                const std::string& raw_email) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "inviting upstream accounts is owner-only");
  }
  std::map<std::string, std::string> fields;
  const auto email = ascii_lowercase(trim_whitespace(raw_email));
  if (pool_id.empty()) {
    fields["pool_id"] = "is required";
  }
  if (!is_email(email)) {
    fields["email"] = "must be an email address";
  }
  if (!fields.empty()) {
    return make_validation_error(std::move(fields));
  }
  auto token = to_base64url(random_bytes(token_bytes));
  auto row = new_invite(context_, who, pool_id, email, token);
  auto stored = context_.db.transact([&](unit_of_work& sql) -> caf::expected<void> {
    if (!account_repository::pool_exists_in(sql, pool_id)) {
      return make_error(errc::not_found, "pool not found");
    }
    onboarding_repository::expire_active_in(sql, pool_id, email, row.created_at);
    onboarding_repository::insert_invite_in(sql, row);
    record(sql, context_, who, "upstream_invite.create", row, {{"expires_at", row.expires_at}});
    sql.commit();
    return {};
  });
  if (!stored) {
    if (to_errc(stored.error()) == errc::conflict) {
      return make_error(errc::conflict, "an active invite for this email and pool exists");
    }
    return stored.error();
  }
  return created_upstream_invite{to_view(row, row.created_at), secret<std::string>{token},
                                 std::string{invite_path} + token};
}

caf::expected<std::vector<upstream_invite_view>>
upstream_invite_service::list(const principal& who, const std::optional<std::string>& pool_id) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "listing upstream invites is owner-only");
  }
  auto rows = context_.db.transact([&](unit_of_work& sql) {
    return onboarding_repository::list_invites_in(sql, pool_id, max_listed);
  });
  if (!rows) {
    return rows.error();
  }
  std::vector<upstream_invite_view> out;
  const auto now = now_text(context_);
  for (const auto& row : *rows) {
    out.push_back(to_view(row, now));
  }
  return out;
}

caf::expected<upstream_invite_view> upstream_invite_service::revoke(const principal& who,
                                                                    const std::string& id) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "revoking upstream invites is owner-only");
  }
  return context_.db.transact([&](unit_of_work& sql) -> caf::expected<upstream_invite_view> {
    auto row = is_uuid(id) ? onboarding_repository::find_invite_in(sql, id) : std::nullopt;
    if (!row) {
      return make_error(errc::not_found, "upstream invite not found");
    }
    const auto now = now_text(context_);
    if (!onboarding_repository::set_invite_status_in(sql, id, "active", "revoked", now)) {
      return make_error(errc::conflict, "only an active invite can be revoked");
    }
    record(sql, context_, who, "upstream_invite.revoke", *row, nlohmann::json::object());
    auto updated = onboarding_repository::find_invite_in(sql, id);
    sql.commit();
    return to_view(*updated, now);
  });
}

caf::expected<created_upstream_invite> upstream_invite_service::reissue(const principal& who,
                                                                        const std::string& id) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "reissuing upstream invites is owner-only");
  }
  auto token = to_base64url(random_bytes(token_bytes));
  return context_.db.transact([&](unit_of_work& sql) -> caf::expected<created_upstream_invite> {
    auto old = is_uuid(id) ? onboarding_repository::find_invite_in(sql, id) : std::nullopt;
    if (!old) {
      return make_error(errc::not_found, "upstream invite not found");
    }
    if (old->status == "accepted") {
      return make_error(errc::conflict, "an accepted invite cannot be reissued");
    }
    auto row = new_invite(context_, who, old->pool_id, old->email, token);
    if (old->status == "active") {
      onboarding_repository::set_invite_status_in(sql, id, "active", "revoked", row.created_at);
    }
    onboarding_repository::expire_active_in(sql, old->pool_id, old->email, row.created_at);
    onboarding_repository::insert_invite_in(sql, row);
    record(sql, context_, who, "upstream_invite.reissue", row, {{"replaces", id}});
    sql.commit();
    return created_upstream_invite{to_view(row, row.created_at), secret<std::string>{token},
                                   std::string{invite_path} + token};
  });
}

caf::expected<invite_page_state> upstream_invite_service::open(const std::string& token) {
  auto invite = usable_invite(context_, token);
  if (!invite) {
    return invite.error();
  }
  auto flow = context_.db.transact([&](unit_of_work& sql) {
    return onboarding_repository::latest_flow_of_invite_in(sql, invite->id);
  });
  if (!flow) {
    return flow.error();
  }
  invite_page_state state{to_view(*invite, now_text(context_)), std::nullopt};
  if (*flow) {
    state.flow = flows_.view_of(**flow);
  }
  return state;
}

caf::expected<invite_page_state> upstream_invite_service::start_device(const std::string& token) {
  auto state = open(token);
  if (!state) {
    return state.error();
  }
  if (state->invite.status != "active") {
    return make_error(errc::flow_not_pending, "invite already accepted");
  }
  // Re-opening the page while a code is pending shows the same code (one flow per invite).
  if (state->flow && state->flow->status == "pending"
      && state->flow->expires_at > now_text(context_)) {
    return state;
  }
  auto started = flows_.start_device_for_invite(state->invite.id, state->invite.pool_id);
  if (!started) {
    return started.error();
  }
  state->flow = std::move(*started);
  return state;
}

} // namespace cxp::domain
