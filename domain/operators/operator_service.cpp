#include "domain/operators/operator_service.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/admin_input.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/crypto/password_hash.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/crypto/totp.hpp"

namespace cxp::domain {

namespace {

constexpr size_t max_email_length = 254;
constexpr size_t max_display_name_length = 100;
constexpr size_t token_bytes = 32;
/// `last_seen_at` is written at most this often per session, not on every request.
constexpr std::chrono::seconds session_touch_interval{60};
constexpr std::string_view owner_role = "instance_owner";
constexpr std::string_view admin_role = "instance_admin";

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string{text.substr(first, last - first + 1)};
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string normalize_email(std::string_view text) {
  return lower(trim(text));
}

bool is_valid_email(const std::string& email) {
  if (email.empty() || email.size() > max_email_length) {
    return false;
  }
  const auto at = email.find('@');
  if (at == 0 || at == std::string::npos || email.find('@', at + 1) != std::string::npos) {
    return false;
  }
  const auto domain = email.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == 0 || dot == std::string::npos || domain.back() == '.') {
    return false;
  }
  return std::none_of(email.begin(), email.end(),
                      [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

/// Why `raw` (as typed, before trimming) cannot be an operator's email, or nullopt.
std::optional<std::string> email_problem(std::string_view raw, const std::string& normalized) {
  if (auto problem = display_text_problem(raw)) {
    return problem;
  }
  if (!is_valid_email(normalized)) {
    return "must be a valid email address";
  }
  return std::nullopt;
}

bool is_valid_role(const std::string& role) {
  return role == owner_role || role == admin_role;
}

/// Characters, not bytes: UTF-8 continuation bytes are not counted.
size_t utf8_length(std::string_view text) {
  return static_cast<size_t>(
    std::count_if(text.begin(), text.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

std::optional<std::string> password_problem(std::string_view password) {
  if (utf8_length(password) < min_password_length) {
    return "must be at least " + std::to_string(min_password_length) + " characters";
  }
  if (password.size() > max_password_length) {
    return "must be at most " + std::to_string(max_password_length) + " bytes";
  }
  return std::nullopt;
}

/// Why `raw` (as typed) cannot be a display name once trimmed to `name`, or nullopt.
std::optional<std::string> display_name_problem(std::string_view raw, const std::string& name) {
  if (auto problem = display_text_problem(raw)) {
    return problem;
  }
  if (name.empty()) {
    return "must not be empty";
  }
  if (utf8_length(name) > max_display_name_length) {
    return "must be at most " + std::to_string(max_display_name_length) + " characters";
  }
  return std::nullopt;
}

secret<std::string> new_token() {
  return secret<std::string>{to_base64url(random_bytes(token_bytes))};
}

int64_t unix_seconds(time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

persistence::secret_scope totp_scope(const std::string& operator_id) {
  return {"operator_totp", operator_id, "totp_secret"};
}

caf::error forbidden() {
  return make_error(errc::forbidden, "owner role required");
}

operator_view to_view(const persistence::operator_row& row) {
  return {row.id,          row.email,     row.display_name,
          row.role,        row.status,    row.password_change_required,
          row.totp_status, row.pool_ids,  row.last_login_at,
          row.created_at,  row.updated_at};
}

invite_view to_view(const persistence::invite_row& row, const std::string& now) {
  auto status = row.status;
  if (status == "active" && row.expires_at <= now) {
    status = "expired";
  }
  return {row.id,         row.email,      row.role,     status,
          row.expires_at, row.created_at, row.pool_ids, row.accepted_at};
}

} // namespace

bool is_totp_required(const caf::error& err) {
  return to_errc(err) == errc::unauthenticated && context_of(err) == "totp_required";
}

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

operator_service::operator_service(service_context& context, login_throttle& throttle)
    : context_(context),
      throttle_(throttle),
      repository_(context.db) {}

std::string operator_service::now_text() const {
  return to_iso8601(context_.clock.now());
}

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
  auto hash = persistence::hash_password(request.password);
  if (!hash) {
    return std::move(hash.error());
  }
  const auto now = now_text();
  persistence::operator_row row;
  row.id = new_uuid();
  row.email = email;
  row.display_name = display_name;
  row.password_hash = std::move(*hash);
  row.role = owner_role;
  row.status = "active";
  row.created_at = now;
  row.updated_at = now;
  auto audit = audit_event(context_, who, "operator.bootstrap");
  audit.target_type = "operator";
  audit.target_id = row.id;
  audit.details = nlohmann::json{{"email", email}, {"role", row.role}}.dump();
  if (auto stored = repository_.insert_bootstrap_owner(row, audit); !stored) {
    return std::move(stored.error());
  }
  return to_view(row);
}

persistence::audit_event_row operator_service::login_audit(const principal& who,
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

caf::error operator_service::fail_login(const principal& who, const std::string& email,
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

caf::expected<login_result> operator_service::login(const login_request& request) {
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
operator_service::authenticate_session(std::string_view raw_session_token) {
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

bool operator_service::verify_csrf(const session_info& session,
                                   std::string_view raw_csrf_token) const {
  if (raw_csrf_token.empty()) {
    return false;
  }
  return persistence::constant_time_equals(
    persistence::hmac_sha256(context_.token_hash_key, raw_csrf_token), session.csrf_token_hash);
}

caf::expected<void> operator_service::logout(const session_info& session) {
  auto audit = audit_event(context_, session.who, "auth.logout");
  audit.target_type = "operator_session";
  audit.target_id = session.session_id;
  return repository_.revoke_session(session.session_id, now_text(), audit);
}

caf::expected<persistence::operator_row> operator_service::load_self(const principal& who) {
  if (who.type != principal::kind::operator_session || who.operator_id.empty()) {
    return make_error(errc::forbidden, "needs an operator session");
  }
  auto row = repository_.find_by_id(who.operator_id);
  if (!row) {
    return std::move(row.error());
  }
  if (!*row) {
    return make_error(errc::not_found, "operator not found");
  }
  return std::move(**row);
}

caf::expected<void> operator_service::change_password(const principal& who,
                                                      const std::string& current_password,
                                                      const std::string& new_password) {
  if (auto problem = password_problem(new_password)) {
    return make_validation_error({{"password", *problem}});
  }
  auto row = load_self(who);
  if (!row) {
    return std::move(row.error());
  }
  if (!row->password_hash || !persistence::verify_password(*row->password_hash, current_password)) {
    return make_validation_error({{"current_password", "is incorrect"}});
  }
  auto hash = persistence::hash_password(new_password);
  if (!hash) {
    return std::move(hash.error());
  }
  auto audit = audit_event(context_, who, "operator.password_change");
  audit.target_type = "operator";
  audit.target_id = row->id;
  return repository_.update_password(row->id, *hash, now_text(), audit);
}

caf::expected<totp_enrollment> operator_service::begin_totp(const principal& who) {
  auto row = load_self(who);
  if (!row) {
    return std::move(row.error());
  }
  if (row->totp_status == "active") {
    return make_error(errc::conflict, "totp already active");
  }
  auto raw = persistence::new_totp_secret();
  auto sealed = persistence::seal(context_.totp_keys, raw.expose(), totp_scope(row->id));
  if (!sealed) {
    return std::move(sealed.error());
  }
  auto audit = audit_event(context_, who, "operator.totp_begin");
  audit.target_type = "operator";
  audit.target_id = row->id;
  if (auto stored =
        repository_.begin_totp(row->id, persistence::to_storage(*sealed), now_text(), audit);
      !stored) {
    return std::move(stored.error());
  }
  return totp_enrollment{secret<std::string>{persistence::to_base32(raw.expose())},
                         persistence::otpauth_uri(totp_issuer, row->email, raw)};
}

caf::expected<std::vector<secret<std::string>>>
operator_service::confirm_totp(const principal& who, const std::string& code) {
  auto row = load_self(who);
  if (!row) {
    return std::move(row.error());
  }
  if (row->totp_status != "pending" || !row->totp_secret_ciphertext) {
    return make_error(errc::conflict, "totp enrollment not pending");
  }
  auto sealed = persistence::from_storage(*row->totp_secret_ciphertext);
  if (!sealed) {
    return std::move(sealed.error());
  }
  auto totp_secret = persistence::open(context_.totp_keys, *sealed, totp_scope(row->id));
  if (!totp_secret) {
    return std::move(totp_secret.error());
  }
  const auto step =
    persistence::verify_totp(*totp_secret, code, unix_seconds(context_.clock.now()));
  if (!step) {
    return make_validation_error({{"code", "is invalid"}});
  }
  const auto now = now_text();
  auto codes = persistence::new_recovery_codes();
  std::vector<persistence::recovery_code_row> rows;
  rows.reserve(codes.size());
  for (const auto& code_text : codes) {
    rows.push_back(
      {new_uuid(), row->id,
       persistence::hmac_sha256(context_.token_hash_key,
                                "recovery:" + row->id + ":"
                                  + persistence::normalize_recovery_code(code_text.expose())),
       "active", now, std::nullopt});
  }
  auto audit = audit_event(context_, who, "operator.totp_enable");
  audit.target_type = "operator";
  audit.target_id = row->id;
  audit.details = nlohmann::json{{"recovery_codes", rows.size()}}.dump();
  if (auto stored = repository_.activate_totp(row->id, *step, rows, now, audit); !stored) {
    return std::move(stored.error());
  }
  return codes;
}

caf::expected<void> operator_service::disable_totp(const principal& who,
                                                   const std::string& password) {
  auto row = load_self(who);
  if (!row) {
    return std::move(row.error());
  }
  if (!row->password_hash || !persistence::verify_password(*row->password_hash, password)) {
    return make_validation_error({{"password", "is incorrect"}});
  }
  auto audit = audit_event(context_, who, "operator.totp_disable");
  audit.target_type = "operator";
  audit.target_id = row->id;
  return repository_.disable_totp(row->id, now_text(), audit);
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

caf::expected<std::vector<std::string>>
operator_service::check_pools(const std::string& role, const std::vector<std::string>& pool_ids) {
  if (role == owner_role || pool_ids.empty()) {
    return std::vector<std::string>{};
  }
  auto existing = repository_.existing_pool_ids(pool_ids);
  if (!existing) {
    return std::move(existing.error());
  }
  for (const auto& id : pool_ids) {
    if (std::find(existing->begin(), existing->end(), id) == existing->end()) {
      return make_validation_error({{"pool_ids", "contains an unknown pool"}});
    }
  }
  auto unique = pool_ids;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  return unique;
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
  persistence::operator_update change{id,           display_name, fields.role, fields.status,
                                      std::nullopt, now_text()};
  if (role == owner_role) {
    // Owners see every pool; stale assignments would silently return on a later demotion.
    change.pool_ids = std::vector<std::string>{};
  } else if (fields.pool_ids) {
    auto pools = check_pools(role, *fields.pool_ids);
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
  auto pools = check_pools(role, pool_ids);
  if (!pools) {
    return std::move(pools.error());
  }
  auto hash = persistence::hash_password(temp_password);
  if (!hash) {
    return std::move(hash.error());
  }
  const auto now = now_text();
  persistence::operator_row row;
  row.id = new_uuid();
  row.email = normalized;
  row.display_name = name;
  row.password_hash = std::move(*hash);
  row.role = role;
  row.status = "active";
  row.password_change_required = true;
  row.created_at = now;
  row.updated_at = now;
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

caf::expected<created_invite> operator_service::create_invite(const principal& who,
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
  const int ttl_hours = request.ttl_hours.value_or(default_invite_ttl_hours);
  if (ttl_hours < 1 || ttl_hours > max_invite_ttl_hours) {
    problems["ttl_hours"] = "must be between 1 and " + std::to_string(max_invite_ttl_hours);
  }
  if (!problems.empty()) {
    return make_validation_error(std::move(problems));
  }
  auto pools = check_pools(request.role, request.pool_ids);
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
  return created_invite{to_view(row, row.created_at), std::move(token)};
}

caf::expected<std::vector<invite_view>> operator_service::list_invites(const principal& who) {
  if (!who.is_owner()) {
    return forbidden();
  }
  auto rows = repository_.list_invites();
  if (!rows) {
    return std::move(rows.error());
  }
  const auto now = now_text();
  std::vector<invite_view> views;
  views.reserve(rows->size());
  for (const auto& row : *rows) {
    views.push_back(to_view(row, now));
  }
  return views;
}

caf::expected<invite_view> operator_service::revoke_invite(const principal& who,
                                                           const std::string& id) {
  if (!who.is_owner()) {
    return forbidden();
  }
  const auto now = now_text();
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

caf::expected<operator_view> operator_service::accept_invite(std::string_view raw_token,
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
  const auto now = now_text();
  if (!*invite || (*invite)->status != "active" || (*invite)->expires_at <= now) {
    return not_usable();
  }
  auto hash = persistence::hash_password(password);
  if (!hash) {
    return std::move(hash.error());
  }
  persistence::operator_row row;
  row.id = new_uuid();
  row.email = (*invite)->email;
  row.display_name = name;
  row.password_hash = std::move(*hash);
  row.role = (*invite)->role;
  row.status = "active";
  row.created_at = now;
  row.updated_at = now;
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
