#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "common/clock.hpp"
#include "common/secret.hpp"
#include "domain/operators/operator_model.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/operators/operator_repository.hpp"

/// The rules the operator services share (email, name and password checks, tokens, views). An
/// internal header of domain/operators: nothing outside that folder includes it.
namespace cxp::domain::detail {

constexpr std::string_view owner_role = "instance_owner";
constexpr std::string_view admin_role = "instance_admin";

/// `text` without surrounding whitespace.
std::string trim(std::string_view text);

/// Trimmed and lower-cased: the form emails are stored and looked up in.
std::string normalize_email(std::string_view text);

bool is_valid_email(const std::string& email);

/// Why `raw` (as typed, before trimming) cannot be an operator's email, or nullopt.
std::optional<std::string> email_problem(std::string_view raw, const std::string& normalized);

bool is_valid_role(const std::string& role);

/// Characters, not bytes: UTF-8 continuation bytes are not counted.
size_t utf8_length(std::string_view text);

std::optional<std::string> password_problem(std::string_view password);

/// Why `raw` (as typed) cannot be a display name once trimmed to `name`, or nullopt.
std::optional<std::string> display_name_problem(std::string_view raw, const std::string& name);

/// A fresh random token (sessions, CSRF, invites), base64url.
secret<std::string> new_token();

int64_t unix_seconds(time_point at);

persistence::secret_scope totp_scope(const std::string& operator_id);

/// `errc::forbidden` for an owner-only action.
caf::error forbidden();

operator_view to_view(const persistence::operator_row& row);

/// `row` as listed at `now`: an active invite past its expiry shows as "expired".
invite_view to_view(const persistence::invite_row& row, const std::string& now);

/// A new active operator row: a fresh id, `password` hashed with Argon2 (its error otherwise),
/// created and updated `now`. The caller sets pool assignments and password_change_required.
caf::expected<persistence::operator_row> new_operator_row(std::string email,
                                                          std::string display_name,
                                                          const std::string& password,
                                                          std::string role, const std::string& now);

/// The pool assignments of an operator with `role`: none for owners, else `pool_ids` deduplicated
/// and sorted, each of which must exist (validation error on "pool_ids" otherwise).
caf::expected<std::vector<std::string>> check_pools(persistence::operator_repository& repository,
                                                    const std::string& role,
                                                    const std::vector<std::string>& pool_ids);

} // namespace cxp::domain::detail
