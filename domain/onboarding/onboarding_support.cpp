#include "domain/onboarding/onboarding_support.hpp"

#include <map>

#include "common/encoding.hpp"
#include "common/log.hpp"
#include "persistence/accounts/account_repository.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/crypto/secret_box.hpp"

namespace cxp::domain::onboarding_detail {

using persistence::account_repository;
using persistence::onboarding_flow_row;
using persistence::onboarding_repository;
using persistence::unit_of_work;

namespace {

constexpr std::string_view secret_purpose = "onboarding";
constexpr std::string_view secret_kind = "flow_secret";

void record(unit_of_work& sql, const service_context& context, const principal& who,
            std::string action, const onboarding_flow_row* row, nlohmann::json details,
            std::string outcome) {
  auto event = audit_event(context, who, std::move(action), std::move(outcome));
  event.target_type = "upstream_onboarding_flow";
  if (row != nullptr) {
    event.target_id = row->id;
    event.pool_id = row->pool_id;
    details["kind"] = row->kind;
    details["purpose"] = row->purpose;
    if (row->invite_id) {
      details["invite_id"] = *row->invite_id;
    }
    if (row->target_account_id) {
      details["target_account_id"] = *row->target_account_id;
    }
  }
  event.details = details.dump();
  persistence::audit_repository::record_in(sql, event);
}

void record_alone(const service_context& context, const principal& who, std::string action,
                  const onboarding_flow_row* row, nlohmann::json details) {
  auto written = context.db.transact([&](unit_of_work& sql) {
    record(sql, context, who, std::move(action), row, std::move(details), "failure");
    sql.commit();
  });
  if (!written) {
    log::warn("admin", "onboarding audit event not written",
              {{"error", context_of(written.error())}});
  }
}

/// Who the background side of a flow acts as: the operator who started it (or the invite's
/// creator), as it is now.
std::optional<principal> starter_of(unit_of_work& sql, const std::optional<std::string>& id) {
  principal who;
  if (!id) {
    who.type = principal::kind::cli;
    return who;
  }
  auto role = onboarding_repository::active_operator_role_in(sql, *id);
  if (!role) {
    return std::nullopt;
  }
  who.type = principal::kind::operator_session;
  who.operator_id = *id;
  who.role = *role;
  return who;
}

} // namespace

std::string now_text(const service_context& context) {
  return to_iso8601(context.clock.now());
}

std::string hash_state(const service_context& context, std::string_view state) {
  return persistence::hmac_sha256(context.token_hash_key, "onboarding-state:" + std::string{state});
}

std::string hash_invite_token(const service_context& context, std::string_view token) {
  return persistence::hmac_sha256(context.token_hash_key, "upstream-invite:" + std::string{token});
}

caf::expected<std::string> seal_flow_secret(const service_context& context,
                                            const std::string& flow_id,
                                            const nlohmann::json& fields) {
  auto sealed = persistence::seal(context.upstream_keys, fields.dump(),
                                  persistence::secret_scope{secret_purpose, flow_id, secret_kind});
  if (!sealed) {
    return sealed.error();
  }
  return persistence::to_storage(*sealed);
}

caf::expected<nlohmann::json> open_flow_secret(const service_context& context,
                                               const onboarding_flow_row& row) {
  auto sealed = persistence::from_storage(row.sealed_secret);
  if (!sealed) {
    return sealed.error();
  }
  auto opened = persistence::open(context.upstream_keys, *sealed,
                                  persistence::secret_scope{secret_purpose, row.id, secret_kind});
  if (!opened) {
    return opened.error();
  }
  auto fields = nlohmann::json::parse(opened->expose(), nullptr, false);
  if (!fields.is_object()) {
    return make_error(errc::decryption_failed, "flow secret is not an object");
  }
  return fields;
}

caf::expected<void> prepare_flow(const service_context& context, const principal& who,
                                 const flow_start_request& request, onboarding_flow_row& row) {
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "adding upstream accounts is owner-only");
  }
  if (request.pool_id.empty()) {
    return make_validation_error({{"pool_id", "is required"}});
  }
  if (request.account_id && !is_uuid(*request.account_id)) {
    return make_validation_error({{"account_id", "must be an upstream account id"}});
  }
  auto checked = context.db.transact([&](unit_of_work& sql) -> caf::expected<void> {
    if (!account_repository::pool_exists_in(sql, request.pool_id)) {
      return make_error(errc::not_found, "pool not found");
    }
    if (request.account_id && !account_repository::find_in(sql, *request.account_id)) {
      return make_error(errc::not_found, "upstream account not found");
    }
    return {};
  });
  if (!checked) {
    return checked.error();
  }
  const auto now = context.clock.now();
  row.id = new_uuid();
  row.purpose = request.account_id ? "relink" : "link";
  row.target_account_id = request.account_id;
  if (!who.operator_id.empty()) {
    row.operator_id = who.operator_id;
  }
  row.pool_id = request.pool_id;
  row.created_at = to_iso8601(now);
  row.updated_at = row.created_at;
  row.expires_at = to_iso8601(now + oauth::flow_lifetime);
  return {};
}

caf::expected<void> store_new_flow(const service_context& context, const principal& who,
                                   onboarding_flow_row& row, const nlohmann::json& secrets) {
  auto sealed = seal_flow_secret(context, row.id, secrets);
  if (!sealed) {
    return sealed.error();
  }
  row.sealed_secret = std::move(*sealed);
  return context.db.transact([&](unit_of_work& sql) {
    long long superseded = 0;
    if (!row.invite_id) {
      superseded =
        onboarding_repository::supersede_pending_in(sql, row.operator_id, row.created_at);
    }
    auto stored = row;
    if (stored.created_at.empty()) {
      stored.created_at = now_text(context);
      stored.updated_at = stored.created_at;
    }
    onboarding_repository::insert_flow_in(sql, stored);
    record(sql, context, who, "upstream_onboarding.start", &stored,
           {{"superseded", superseded}, {"expires_at", stored.expires_at}}, "success");
    sql.commit();
  });
}

void audit_start_failure(const service_context& context, const principal& who,
                         const onboarding_flow_row& row, const caf::error& why) {
  // The row was never stored: the event names the pool and kind only.
  nlohmann::json details{{"error_code", to_string(to_errc(why))}};
  auto written = context.db.transact([&](unit_of_work& sql) {
    auto event = audit_event(context, who, "upstream_onboarding.start", "failure");
    event.target_type = "upstream_onboarding_flow";
    event.pool_id = row.pool_id;
    details["kind"] = row.kind;
    details["purpose"] = row.purpose;
    if (row.invite_id) {
      details["invite_id"] = *row.invite_id;
    }
    event.details = details.dump();
    persistence::audit_repository::record_in(sql, event);
    sql.commit();
  });
  (void)written;
  log::info("admin", "onboarding flow could not start",
            {{"kind", row.kind}, {"error", std::string{to_string(to_errc(why))}}});
}

void audit_failure(const service_context& context, const principal& who,
                   const onboarding_flow_row* row, const caf::error& why) {
  record_alone(context, who, "upstream_onboarding.complete", row,
               {{"error_code", to_string(to_errc(why))}});
}

void record_flow_failure(const service_context& context, const onboarding_flow_row& row,
                         const std::string& from, const caf::error& why) {
  const auto code = std::string{to_string(to_errc(why))};
  const auto status = to_errc(why) == errc::expired_flow ? "expired" : "failed";
  auto written = context.db.transact([&](unit_of_work& sql) {
    const auto now = now_text(context);
    if (onboarding_repository::transition_in(sql, row.id, from, status, now, code)) {
      principal who;
      if (auto starter = starter_of(sql, row.operator_id); starter && !row.invite_id) {
        who = *starter;
      }
      record(sql, context, who, "upstream_onboarding.fail", &row, {{"error_code", code}},
             "failure");
    }
    sql.commit();
  });
  if (!written) {
    log::warn("admin", "onboarding flow failure not recorded",
              {{"flow_id", row.id}, {"error", context_of(written.error())}});
  }
  log::info("admin", "onboarding flow failed",
            {{"flow_id", row.id}, {"kind", row.kind}, {"error", code}});
}

caf::expected<principal> check_identity(const service_context& context,
                                        const onboarding_flow_row& row,
                                        const oauth::signed_in_account& account) {
  return context.db.transact([&](unit_of_work& sql) -> caf::expected<principal> {
    if (row.target_account_id) {
      auto target = account_repository::find_in(sql, *row.target_account_id);
      if (!target) {
        return make_error(errc::not_found, "relinked account is gone");
      }
      const bool same_user = !target->chatgpt_user_id || !account.chatgpt_user_id
                             || *target->chatgpt_user_id == *account.chatgpt_user_id;
      if (target->chatgpt_account_id != account.chatgpt_account_id || !same_user) {
        return make_error(errc::identity_mismatch, "signed-in account is not the relinked one");
      }
    }
    std::optional<std::string> starter = row.operator_id;
    if (row.invite_id) {
      auto invite = onboarding_repository::find_invite_in(sql, *row.invite_id);
      if (!invite) {
        return make_error(errc::invite_invalid, "invite is gone");
      }
      if (invite->status == "revoked") {
        return make_error(errc::invite_revoked, "invite revoked during the sign-in");
      }
      if (invite->status != "active") {
        return make_error(errc::invite_expired, "invite no longer active");
      }
      if (ascii_lowercase(account.email.value_or("")) != ascii_lowercase(invite->email)) {
        return make_error(errc::invite_email_mismatch, "signed-in email differs from the invite");
      }
      starter = invite->created_by;
    }
    auto who = starter_of(sql, starter);
    if (!who || !who->is_owner()) {
      return make_error(errc::unauthorized_pool,
                        "the starting operator may no longer add accounts");
    }
    return *who;
  });
}

caf::expected<onboarding_flow_row> finish_flow(const service_context& context, const principal& who,
                                               const onboarding_flow_row& row,
                                               const std::string& account_id, bool created) {
  return context.db.transact([&](unit_of_work& sql) -> caf::expected<onboarding_flow_row> {
    const auto now = now_text(context);
    if (!onboarding_repository::transition_in(sql, row.id, "exchanging", "completed", now,
                                              std::nullopt, account_id)) {
      return make_error(errc::conflict, "flow left exchanging meanwhile");
    }
    record(sql, context, row.invite_id ? principal{} : who, "upstream_onboarding.complete", &row,
           {{"account_id", account_id}, {"created", created}}, "success");
    if (row.invite_id) {
      onboarding_repository::set_invite_status_in(sql, *row.invite_id, "active", "accepted", now,
                                                  account_id);
      auto event = audit_event(context, principal{}, "upstream_invite.accept");
      event.target_type = "upstream_invite";
      event.target_id = *row.invite_id;
      event.pool_id = row.pool_id;
      event.details = nlohmann::json{{"account_id", account_id}, {"created", created}}.dump();
      persistence::audit_repository::record_in(sql, event);
    }
    auto updated = onboarding_repository::find_flow_in(sql, row.id);
    sql.commit();
    if (!updated) {
      return make_error(errc::internal_error, "completed flow vanished");
    }
    return std::move(*updated);
  });
}

std::string public_message(const std::string& code) {
  static const std::map<std::string, std::string, std::less<>> messages{
    {"stale_flow", "A newer sign-in was started; use the newest one."},
    {"expired_flow", "This sign-in expired; start again."},
    {"provider_denied", "The sign-in was refused by OpenAI."},
    {"token_exchange_failed", "OpenAI did not accept the sign-in; start again."},
    {"identity_mismatch", "The signed-in ChatGPT account is not the account being relinked."},
    {"unauthorized_pool", "The operator may no longer add accounts to this pool."},
    {"codex_auth_unavailable", "OpenAI sign-in is not available; try again later."},
    {"codex_auth_transient", "OpenAI sign-in failed temporarily; try again."},
    {"codex_device_code_expired", "The device code expired; start again."},
    {"codex_device_code_denied", "The device code sign-in was denied."},
    {"codex_device_code_timeout",
     "The device code was not approved in time. Check that \"Enable device code authorization "
     "for Codex\" is on in ChatGPT Settings > Security (workspace accounts: the workspace admin "
     "must allow it), then start again."},
    {"codex_account_identity_missing", "The signed-in account has no ChatGPT account id."},
    {"invite_email_mismatch",
     "The signed-in email does not match the invited email. Sign in with the invited account."},
    {"invite_expired", "This invite expired; ask for a new one."},
    {"invite_revoked", "This invite was revoked; ask for a new one."},
  };
  auto it = messages.find(code);
  return it == messages.end() ? "The sign-in failed; start again." : it->second;
}

} // namespace cxp::domain::onboarding_detail
