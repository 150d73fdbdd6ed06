#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/secret.hpp"
#include "domain/admin_context.hpp"
#include "persistence/db/unit_of_work.hpp"

/// What the account service's admin half (account_service.cpp) and its credentials half
/// (account_credentials.cpp) share. An internal header of domain/accounts.
namespace cxp::domain::detail {

/// The AAD kinds of the two sealed tokens of an account.
constexpr std::string_view access_kind = "access_token";
constexpr std::string_view refresh_kind = "refresh_token";

/// `errc::forbidden` naming `what` as owner-only.
caf::error owner_only(std::string_view what);

/// Writes one `upstream_account.*` audit event inside the caller's transaction.
void record_event(persistence::unit_of_work& sql, const service_context& context,
                  const principal& who, std::string action, std::optional<std::string> target_id,
                  std::optional<std::string> pool_id, const nlohmann::json& details,
                  std::string outcome = "success");

std::optional<std::string> iso_or_null(const std::optional<time_point>& at);

/// `token` sealed with the current upstream key under the AAD (upstream, `id`, `kind`), in its
/// stored text form.
caf::expected<std::string> seal_token(const service_context& context,
                                      const secret<std::string>& token, const std::string& id,
                                      std::string_view kind);

/// The inverse of `seal_token`: `errc::decryption_failed` when the key version is unknown or the
/// ciphertext does not open under this AAD.
caf::expected<secret<std::string>> open_token(const service_context& context,
                                              const std::string& stored, const std::string& id,
                                              std::string_view kind);

} // namespace cxp::domain::detail
