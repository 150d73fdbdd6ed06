#include "domain/operators/operator_credentials.hpp"

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/operators/operator_rules.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/crypto/password_hash.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/crypto/totp.hpp"

namespace cxp::domain {

using namespace detail;

operator_credentials::operator_credentials(service_context& context)
    : context_(context),
      repository_(context.db) {}

caf::expected<persistence::operator_row> operator_credentials::load_self(const principal& who) {
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

caf::expected<void> operator_credentials::change_password(const principal& who,
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
  return repository_.update_password(row->id, *hash, to_iso8601(context_.clock.now()), audit);
}

caf::expected<totp_enrollment> operator_credentials::begin_totp(const principal& who) {
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
  if (auto stored = repository_.begin_totp(row->id, persistence::to_storage(*sealed),
                                           to_iso8601(context_.clock.now()), audit);
      !stored) {
    return std::move(stored.error());
  }
  return totp_enrollment{secret<std::string>{persistence::to_base32(raw.expose())},
                         persistence::otpauth_uri(totp_issuer, row->email, raw)};
}

caf::expected<std::vector<secret<std::string>>>
operator_credentials::confirm_totp(const principal& who, const std::string& code) {
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
  const auto now = to_iso8601(context_.clock.now());
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

caf::expected<void> operator_credentials::disable_totp(const principal& who,
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
  return repository_.disable_totp(row->id, to_iso8601(context_.clock.now()), audit);
}

} // namespace cxp::domain
