#include "domain/mcp/mcp_token_service.hpp"

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/admin_input.hpp"
#include "domain/keys/api_key.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/operators/operator_repository.hpp"

namespace cxp::domain {

namespace {

/// A prefix clash (6 random bytes) is improbable; a few fresh draws make it impossible in practice.
constexpr int max_prefix_attempts = 3;
constexpr size_t max_mcp_token_name_length = 100;
constexpr int max_listed_tokens = 500;

template <class T>
nlohmann::json nullable(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

mcp_token_view to_view(const persistence::mcp_token_row& row) {
  return {row.id,         row.operator_id, row.name,       row.token_prefix, row.status,
          row.expires_at, row.created_at,  row.revoked_at, row.revoked_by};
}

bool is_expired(const persistence::mcp_token_row& row, time_point now) {
  if (!row.expires_at) {
    return false;
  }
  const auto expires = parse_iso8601(*row.expires_at);
  return !expires || *expires <= now;
}

} // namespace

nlohmann::json to_json(const mcp_token_view& view) {
  return {{"id", view.id},
          {"operator_id", view.operator_id},
          {"name", view.name},
          {"token_prefix", view.token_prefix},
          {"status", view.status},
          {"expires_at", nullable(view.expires_at)},
          {"created_at", view.created_at},
          {"revoked_at", nullable(view.revoked_at)},
          {"revoked_by", nullable(view.revoked_by)}};
}

nlohmann::json to_json(const mcp_access_view& view) {
  return {{"operator_id", view.operator_id}, {"enabled", view.enabled}};
}

mcp_token_service::mcp_token_service(service_context& context)
    : context_(context),
      repository_(context.db) {}

caf::error mcp_token_service::check_may_manage(const principal& who,
                                               const std::string& operator_id) const {
  if (who.is_owner() || (!who.operator_id.empty() && who.operator_id == operator_id)) {
    return {};
  }
  return make_error(errc::forbidden, "only an owner manages another operator's MCP access");
}

caf::expected<created_mcp_token> mcp_token_service::create(const principal& who,
                                                           const mcp_token_request& request) {
  std::map<std::string, std::string> errors;
  auto name = clean_display_text(request.name, max_mcp_token_name_length);
  if (!name) {
    errors["name"] = "must be 1 to 100 characters";
  }
  const int days = request.expires_in_days.value_or(default_mcp_token_days);
  if (days < 1 || days > max_mcp_token_days) {
    errors["expires_in_days"] = "must be between 1 and " + std::to_string(max_mcp_token_days);
  }
  std::string operator_id = who.operator_id;
  if (request.operator_id && *request.operator_id != who.operator_id) {
    if (who.type != principal::kind::cli) {
      return make_error(errc::forbidden, "an operator creates MCP tokens for itself only");
    }
    operator_id = *request.operator_id;
  }
  if (operator_id.empty()) {
    errors["operator"] = "is required";
  }
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  auto owner = persistence::operator_repository{context_.db}.find_by_id(operator_id);
  if (!owner) {
    return owner.error();
  }
  if (!*owner) {
    return make_error(errc::not_found, "operator not found");
  }
  const auto now = context_.clock.now();
  for (int attempt = 1;; ++attempt) {
    persistence::mcp_token_row row;
    row.id = new_uuid();
    row.operator_id = operator_id;
    row.name = *name;
    row.token_prefix = std::string{mcp_token_scheme} + to_hex(random_bytes(api_key_prefix_hex / 2));
    secret<std::string> raw{row.token_prefix + "-"
                            + to_base64url(random_bytes(api_key_secret_bytes))};
    row.token_hash = persistence::hmac_sha256(context_.token_hash_key, raw.expose());
    row.expires_at = to_iso8601(now + std::chrono::hours{24} * days);
    row.created_at = to_iso8601(now);
    auto event = audit_event(context_, who, "mcp_token.create");
    event.target_type = "mcp_token";
    event.target_id = row.id;
    event.details = nlohmann::json{{"token_prefix", row.token_prefix},
                                   {"operator_id", operator_id},
                                   {"expires_at", *row.expires_at}}
                      .dump();
    auto inserted = repository_.insert(row, event);
    if (inserted) {
      return created_mcp_token{to_view(row), std::move(raw)};
    }
    if (to_errc(inserted.error()) != errc::conflict || attempt == max_prefix_attempts) {
      return inserted.error();
    }
  }
}

caf::expected<std::vector<mcp_token_view>>
mcp_token_service::list(const principal& who, const std::optional<std::string>& operator_id) {
  std::optional<std::string> whose = operator_id;
  if (!who.is_owner()) {
    if (operator_id && *operator_id != who.operator_id) {
      return make_error(errc::forbidden, "only an owner lists another operator's MCP tokens");
    }
    whose = who.operator_id;
  }
  auto rows = repository_.list(whose, max_listed_tokens);
  if (!rows) {
    return rows.error();
  }
  std::vector<mcp_token_view> views;
  for (const auto& row : *rows) {
    views.push_back(to_view(row));
  }
  return views;
}

caf::expected<persistence::mcp_token_row> mcp_token_service::visible_token(const principal& who,
                                                                           const std::string& id) {
  auto row = repository_.find(id);
  if (!row) {
    return row.error();
  }
  // Another operator's token is "not found" to a non-owner: its existence is not theirs to know.
  if (!*row || (!who.is_owner() && (*row)->operator_id != who.operator_id)) {
    return make_error(errc::not_found, "mcp token not found");
  }
  return std::move(**row);
}

caf::expected<mcp_token_view> mcp_token_service::revoke(const principal& who,
                                                        const std::string& id) {
  auto row = visible_token(who, id);
  if (!row) {
    return row.error();
  }
  if (row->status == "revoked") {
    return to_view(*row);
  }
  const auto now = to_iso8601(context_.clock.now());
  auto event = audit_event(context_, who, "mcp_token.revoke");
  event.target_type = "mcp_token";
  event.target_id = row->id;
  event.details =
    nlohmann::json{{"token_prefix", row->token_prefix}, {"operator_id", row->operator_id}}.dump();
  const std::string revoked_by = who.operator_id.empty() ? row->operator_id : who.operator_id;
  if (auto revoked = repository_.revoke(row->id, revoked_by, now, event); !revoked) {
    return revoked.error();
  }
  row->status = "revoked";
  row->revoked_at = now;
  row->revoked_by = revoked_by;
  return to_view(*row);
}

caf::expected<mcp_access_view> mcp_token_service::access(const principal& who,
                                                         const std::string& operator_id) {
  if (auto denied = check_may_manage(who, operator_id)) {
    return denied;
  }
  auto enabled = repository_.access_enabled(operator_id);
  if (!enabled) {
    return enabled.error();
  }
  return mcp_access_view{operator_id, *enabled};
}

caf::expected<mcp_access_view>
mcp_token_service::set_access(const principal& who, const std::string& operator_id, bool enabled) {
  if (auto denied = check_may_manage(who, operator_id)) {
    return denied;
  }
  auto target = persistence::operator_repository{context_.db}.find_by_id(operator_id);
  if (!target) {
    return target.error();
  }
  if (!*target) {
    return make_error(errc::not_found, "operator not found");
  }
  auto event = audit_event(context_, who, "mcp_access.update");
  event.target_type = "operator";
  event.target_id = operator_id;
  event.details = nlohmann::json{{"enabled", enabled}}.dump();
  if (auto written =
        repository_.set_access(operator_id, enabled, to_iso8601(context_.clock.now()), event);
      !written) {
    return written.error();
  }
  return mcp_access_view{operator_id, enabled};
}

caf::expected<principal> mcp_token_service::authenticate(std::string_view raw_token,
                                                         bool instance_enabled) {
  if (raw_token.empty()) {
    return make_error(errc::mcp_token_required);
  }
  const auto prefix = scheme_token_prefix(raw_token, mcp_token_scheme);
  if (!prefix) {
    return make_error(errc::mcp_token_invalid, "not an mcp-cxp- token");
  }
  if (!instance_enabled) {
    return make_error(errc::mcp_service_disabled);
  }
  auto row = repository_.find_by_prefix(*prefix);
  if (!row) {
    return row.error();
  }
  const auto hash = persistence::hmac_sha256(context_.token_hash_key, raw_token);
  if (!*row || !persistence::constant_time_equals(hash, (*row)->token_hash)
      || (*row)->status != "active" || is_expired(**row, context_.clock.now())) {
    return make_error(errc::mcp_token_invalid, "unknown, revoked or expired mcp token");
  }
  auto owner = persistence::operator_repository{context_.db}.find_by_id((*row)->operator_id);
  if (!owner) {
    return owner.error();
  }
  if (!*owner || (*owner)->status != "active") {
    return make_error(errc::mcp_operator_disabled);
  }
  if ((*owner)->password_change_required) {
    return make_error(errc::mcp_operator_password_change_required);
  }
  auto enabled = repository_.access_enabled((*owner)->id);
  if (!enabled) {
    return enabled.error();
  }
  if (!*enabled) {
    return make_error(errc::mcp_account_disabled);
  }
  principal who;
  who.type = principal::kind::operator_session;
  who.operator_id = (*owner)->id;
  who.role = (*owner)->role;
  who.pool_ids = (*owner)->pool_ids;
  return who;
}

} // namespace cxp::domain
