#include "domain/operators/operator_rules.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/admin_input.hpp"
#include "persistence/crypto/password_hash.hpp"

namespace cxp::domain::detail {

namespace {

constexpr size_t max_email_length = 254;
constexpr size_t max_display_name_length = 100;
constexpr size_t token_bytes = 32;

} // namespace

std::string trim(std::string_view text) {
  return std::string{trim_whitespace(text)};
}

std::string normalize_email(std::string_view text) {
  return ascii_lowercase(trim_whitespace(text));
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

caf::expected<std::vector<std::string>> check_pools(persistence::operator_repository& repository,
                                                    const std::string& role,
                                                    const std::vector<std::string>& pool_ids) {
  if (role == owner_role || pool_ids.empty()) {
    return std::vector<std::string>{};
  }
  auto existing = repository.existing_pool_ids(pool_ids);
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

caf::expected<persistence::operator_row>
new_operator_row(std::string email, std::string display_name, const std::string& password,
                 std::string role, const std::string& now) {
  auto hash = persistence::hash_password(password);
  if (!hash) {
    return std::move(hash.error());
  }
  persistence::operator_row row;
  row.id = new_uuid();
  row.email = std::move(email);
  row.display_name = std::move(display_name);
  row.password_hash = std::move(*hash);
  row.role = std::move(role);
  row.status = "active";
  row.created_at = now;
  row.updated_at = now;
  return row;
}

} // namespace cxp::domain::detail
