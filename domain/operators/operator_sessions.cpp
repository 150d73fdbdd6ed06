#include "domain/operators/operator_sessions.hpp"

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/operators/operator_rules.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/crypto/password_hash.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/crypto/totp.hpp"

namespace cxp::domain {

using namespace detail;

namespace {

/// `last_seen_at` is written at most this often per session, not on every request.
constexpr std::chrono::seconds session_touch_interval{60};

} // namespace

bool is_totp_required(const caf::error& err) {
  return to_errc(err) == errc::unauthenticated && context_of(err) == "totp_required";
}

operator_sessions::operator_sessions(service_context& context, login_throttle& throttle)
    : context_(context),
      throttle_(throttle),
      repository_(context.db) {}

persistence::audit_event_row operator_sessions::login_audit(const principal& who,
                                                            const std::string& outcome,
                                                            const std::string& email,
                                                            const std::string& reason) const {
  auto audit = audit_event(context_, who, "auth.login", outcome);
  if (!who.operator_id.empty()) {
    audit.target_type = "operator";
    audit.target_id = who.operator_id;
  }
  // Only a well-formed address is recorded: users do type passwords into the email field.
  nlohmann::json details = nlohmann::json::object();
  if (is_valid_email(email) && !has_control_characters(email)) {
    details["email"] = email;
  }
  if (!reason.empty()) {
    details["reason"] = reason;
  }
  audit.details = details.dump();
  return audit;
}

caf::error operator_sessions::fail_login(const principal& who, const std::string& email,
                                         const std::string& client_ip, const std::string& reason) {
  throttle_.record_failure(email, client_ip, context_.clock.now());
  // The failed attempt is an audit event, not part of any change, so it is written on its own.
  // A failure to write it must not turn a rejected login into a different answer.
  auto audit = login_audit(principal{principal::kind::anonymous, {}, {}, {}, who.client_ip},
                           "failure", email, reason);
  audit.target_type =
    who.operator_id.empty() ? std::nullopt : std::optional<std::string>{"operator"};
  audit.target_id =
    who.operator_id.empty() ? std::nullopt : std::optional<std::string>{who.operator_id};
  static_cast<void>(persistence::audit_repository{context_.db}.record(audit));
  return make_error(errc::unauthenticated, reason);
}

caf::expected<login_result> operator_sessions::login(const login_request& request) {
  const auto now = context_.clock.now();
  const auto email = normalize_email(request.email);
  principal anonymous{principal::kind::anonymous, {}, {}, {}, request.client_ip};
  if (throttle_.is_locked(email, request.client_ip, now)) {
    static_cast<void>(persistence::audit_repository{context_.db}.record(
      login_audit(anonymous, "failure", email, "rate_limited")));
    return make_error(errc::rate_limited, "login throttled");
  }
  auto found = repository_.find_by_email(email);
  if (!found) {
    return std::move(found.error());
  }
  if (!*found || !(*found)->password_hash) {
    persistence::dummy_verify(request.password);
    return fail_login(anonymous, email, request.client_ip, "invalid_credentials");
  }
  auto& row = **found;
  principal target = anonymous;
  target.operator_id = row.id;
  if (!persistence::verify_password(*row.password_hash, request.password)) {
    return fail_login(target, email, request.client_ip, "invalid_credentials");
  }
  if (row.status != "active") {
    return fail_login(target, email, request.client_ip, "operator_inactive");
  }
  persistence::login_commit commit;
  commit.now = to_iso8601(now);
  if (row.totp_status == "active") {
    const bool has_code = request.totp_code && !trim(*request.totp_code).empty();
    const bool has_recovery = request.recovery_code && !trim(*request.recovery_code).empty();
    if (!has_code && !has_recovery) {
      return make_error(errc::unauthenticated, "totp_required");
    }
    if (has_code) {
      auto sealed = persistence::from_storage(row.totp_secret_ciphertext.value_or(""));
      if (!sealed) {
        return std::move(sealed.error());
      }
      auto totp_secret = persistence::open(context_.totp_keys, *sealed, totp_scope(row.id));
      if (!totp_secret) {
        return std::move(totp_secret.error());
      }
      const auto step =
        persistence::verify_totp(*totp_secret, *request.totp_code, unix_seconds(now));
      if (!step || (row.totp_last_used_step && *step <= *row.totp_last_used_step)) {
        return fail_login(target, email, request.client_ip, "invalid_totp_code");
      }
      commit.totp_step = *step;
    } else {
      const auto code_hash = persistence::hmac_sha256(
        context_.token_hash_key,
        "recovery:" + row.id + ":" + persistence::normalize_recovery_code(*request.recovery_code));
      auto code_id = repository_.find_active_recovery_code(row.id, code_hash);
      if (!code_id) {
        return std::move(code_id.error());
      }
      if (!*code_id) {
        return fail_login(target, email, request.client_ip, "invalid_recovery_code");
      }
      commit.recovery_code_id = **code_id;
    }
  }
  session_tokens tokens{new_token(), new_token(), to_iso8601(now + operator_session_ttl)};
  auto& session = commit.session;
  session.id = new_uuid();
  session.operator_id = row.id;
  session.token_hash =
    persistence::hmac_sha256(context_.token_hash_key, tokens.session_token.expose());
  session.csrf_token_hash =
    persistence::hmac_sha256(context_.token_hash_key, tokens.csrf_token.expose());
  session.status = "active";
  if (!request.client_ip.empty()) {
    session.client_ip = request.client_ip;
  }
  if (!request.user_agent.empty()) {
    session.user_agent = request.user_agent;
  }
  session.created_at = commit.now;
  session.last_seen_at = commit.now;
  session.expires_at = tokens.expires_at;
  principal who{principal::kind::operator_session, row.id, row.role, row.pool_ids,
                request.client_ip};
  auto audit =
    login_audit(who, "success", email,
                commit.recovery_code_id ? "recovery_code" : (commit.totp_step ? "totp" : ""));
  if (auto stored = repository_.complete_login(commit, audit); !stored) {
    if (to_errc(stored.error()) == errc::unauthenticated) {
      return fail_login(target, email, request.client_ip, "second_factor_replayed");
    }
    return std::move(stored.error());
  }
  throttle_.record_success(email, request.client_ip);
  row.last_login_at = commit.now;
  return login_result{to_view(row), std::move(tokens)};
}

caf::expected<session_info>
operator_sessions::authenticate_session(std::string_view raw_session_token) {
  if (raw_session_token.empty()) {
    return make_error(errc::unauthenticated, "no session token");
  }
  const auto hash = persistence::hmac_sha256(context_.token_hash_key, raw_session_token);
  auto session = repository_.find_session_by_token_hash(hash);
  if (!session) {
    return std::move(session.error());
  }
  const auto now = context_.clock.now();
  const auto now_iso = to_iso8601(now);
  if (!*session || (*session)->status != "active" || (*session)->expires_at <= now_iso) {
    return make_error(errc::unauthenticated, "session unknown, revoked or expired");
  }
  auto row = repository_.find_by_id((*session)->operator_id);
  if (!row) {
    return std::move(row.error());
  }
  if (!*row || (*row)->status != "active") {
    return make_error(errc::unauthenticated, "operator inactive");
  }
  auto touched =
    repository_.touch_session((*session)->id, now_iso, to_iso8601(now - session_touch_interval));
  if (!touched) {
    return std::move(touched.error());
  }
  const auto& op = **row;
  return session_info{principal{principal::kind::operator_session, op.id, op.role, op.pool_ids, {}},
                      to_view(op), (*session)->id, (*session)->csrf_token_hash};
}

bool operator_sessions::verify_csrf(const session_info& session,
                                    std::string_view raw_csrf_token) const {
  if (raw_csrf_token.empty()) {
    return false;
  }
  return persistence::constant_time_equals(
    persistence::hmac_sha256(context_.token_hash_key, raw_csrf_token), session.csrf_token_hash);
}

caf::expected<void> operator_sessions::logout(const session_info& session) {
  auto audit = audit_event(context_, session.who, "auth.logout");
  audit.target_type = "operator_session";
  audit.target_id = session.session_id;
  return repository_.revoke_session(session.session_id, to_iso8601(context_.clock.now()), audit);
}

} // namespace cxp::domain
