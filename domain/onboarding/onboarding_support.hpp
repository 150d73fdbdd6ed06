#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "domain/onboarding/oauth_protocol.hpp"
#include "domain/onboarding/onboarding_service.hpp"
#include "persistence/onboarding/onboarding_repository.hpp"

/// What the onboarding and invite services share: hashing, sealing, the flow's bookkeeping and
/// its audit events. An internal header of domain/onboarding.
namespace cxp::domain::onboarding_detail {

std::string now_text(const service_context& context);

/// Keyed hashes (SECRET_KEY_BASE-derived) of a browser state and of an invite token.
std::string hash_state(const service_context& context, std::string_view state);
std::string hash_invite_token(const service_context& context, std::string_view token);

/// `fields` (JSON) sealed under the upstream keyring, AAD (onboarding, flow id, flow_secret).
caf::expected<std::string> seal_flow_secret(const service_context& context,
                                            const std::string& flow_id,
                                            const nlohmann::json& fields);
caf::expected<nlohmann::json> open_flow_secret(const service_context& context,
                                               const persistence::onboarding_flow_row& row);

/// Checks that `who` may start a flow (owner-only, like importing), the pool (and the relinked
/// account) exist, and fills the row's id, operator, pool, purpose, times (10-minute expiry).
caf::expected<void> prepare_flow(const service_context& context, const principal& who,
                                 const flow_start_request& request,
                                 persistence::onboarding_flow_row& row);

/// Seals `secrets` (the verifier or the device code) into the row, supersedes the operator's
/// other pending flows, inserts `row` and audits the start.
caf::expected<void> store_new_flow(const service_context& context, const principal& who,
                                   persistence::onboarding_flow_row& row,
                                   const nlohmann::json& secrets);

/// Audits a refused start (`upstream_onboarding.start`, outcome failure).
void audit_start_failure(const service_context& context, const principal& who,
                         const persistence::onboarding_flow_row& row, const caf::error& why);

/// Audits a refused completion that changed no flow (`upstream_onboarding.complete`, failure).
void audit_failure(const service_context& context, const principal& who,
                   const persistence::onboarding_flow_row* row, const caf::error& why);

/// Moves the flow from `from` to failed (expired for `expired_flow`) with the error's code and
/// audits `upstream_onboarding.fail`.
void record_flow_failure(const service_context& context,
                         const persistence::onboarding_flow_row& row, const std::string& from,
                         const caf::error& why);

/// The checks between the exchange and the import: the relinked account's identity, the invited
/// email and the invite's state, and the authority of whoever started the flow (re-read now).
/// Answers the principal the import acts as.
caf::expected<principal> check_identity(const service_context& context,
                                        const persistence::onboarding_flow_row& row,
                                        const oauth::signed_in_account& account);

/// Marks the flow completed (and its invite accepted), audited; answers the updated row.
caf::expected<persistence::onboarding_flow_row>
finish_flow(const service_context& context, const principal& who,
            const persistence::onboarding_flow_row& row, const std::string& account_id,
            bool created);

/// The public message of a flow's terminal error code.
std::string public_message(const std::string& code);

} // namespace cxp::domain::onboarding_detail
