#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/secret.hpp"
#include "domain/admin_context.hpp"
#include "persistence/mcp/mcp_token_repository.hpp"

namespace cxp::domain {

/// "mcp-cxp-": the fixed head of every operator MCP token. Format mcp-cxp-<12 hex>-<43
/// base64url>; the stored prefix is "mcp-cxp-<12 hex>" and the stored hash
/// hmac_sha256(context.token_hash_key, raw token). The shape differs from a Pool API key's
/// (`sk-cxp-`), and each is looked up in its own table, so neither is ever accepted as the other.
constexpr std::string_view mcp_token_scheme = "mcp-cxp-";
/// Token lifetime when the request names none, and the longest accepted.
constexpr int default_mcp_token_days = 90;
constexpr int max_mcp_token_days = 365;

/// A token as the admin API and the CLI show it: never the hash or the raw token.
struct mcp_token_view {
  std::string id, operator_id, name, token_prefix, status;
  std::optional<std::string> expires_at;
  std::string created_at;
  std::optional<std::string> revoked_at, revoked_by;
};

nlohmann::json to_json(const mcp_token_view& view);

/// A new token: the raw value is returned exactly once.
struct created_mcp_token {
  mcp_token_view token;
  secret<std::string> raw;
};

struct mcp_token_request {
  std::string name;
  std::optional<int> expires_in_days; ///< 1..365; default 90
  /// Whose token: only the CLI names another operator (an API caller gets its own token).
  std::optional<std::string> operator_id;
};

/// An operator's MCP switch as the admin API shows it, with the instance gate beside it.
struct mcp_access_view {
  std::string operator_id;
  bool enabled = false;
};

nlohmann::json to_json(const mcp_access_view& view);

/// Operator MCP tokens and the per-operator MCP switch, plus the check `/mcp` runs on every
/// request. A plain synchronous class (blocks on the database); `context` must outlive it.
///
/// Authorization: an operator creates, lists and revokes its own tokens and flips its own
/// switch; an owner lists and revokes anyone's and flips anyone's switch; the CLI acts as owner
/// and must name the operator a token is for. Every change writes one audit event
/// (`mcp_token.create`, `mcp_token.revoke`, `mcp_access.update`) without any secret.
class mcp_token_service {
public:
  explicit mcp_token_service(service_context& context);

  caf::expected<created_mcp_token> create(const principal& who, const mcp_token_request& request);
  /// The caller's tokens, newest first; an owner may name another operator or, with none, see
  /// every operator's.
  caf::expected<std::vector<mcp_token_view>> list(const principal& who,
                                                  const std::optional<std::string>& operator_id);
  caf::expected<mcp_token_view> revoke(const principal& who, const std::string& id);

  caf::expected<mcp_access_view> access(const principal& who, const std::string& operator_id);
  caf::expected<mcp_access_view> set_access(const principal& who, const std::string& operator_id,
                                            bool enabled);

  /// Resolves a bearer token on `/mcp` to the principal of its operator (kind mcp_token), after
  /// the gates, in order: empty or malformed -> mcp_token_required / mcp_token_invalid;
  /// `instance_enabled` false -> mcp_service_disabled; unknown, wrong secret, revoked or expired
  /// -> mcp_token_invalid; operator disabled (or gone) -> mcp_operator_disabled; password change
  /// pending -> mcp_operator_password_change_required; switch off -> mcp_account_disabled. Reads
  /// the operator on every call, so a change made on any node applies to the next request.
  caf::expected<principal> authenticate(std::string_view raw_token, bool instance_enabled);

private:
  caf::expected<persistence::mcp_token_row> visible_token(const principal& who,
                                                          const std::string& id);
  caf::error check_may_manage(const principal& who, const std::string& operator_id) const;

  service_context& context_;
  persistence::mcp_token_repository repository_;
};

} // namespace cxp::domain
