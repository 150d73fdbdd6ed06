#include "domain/accounts/account_tokens.hpp"

#include "persistence/crypto/secret_box.hpp"

namespace cxp::domain::detail {

namespace {

constexpr std::string_view secret_purpose = "upstream";

} // namespace

caf::error owner_only(std::string_view what) {
  return make_error(errc::forbidden, std::string{what} + " is owner-only");
}

void record_event(persistence::unit_of_work& sql, const service_context& context,
                  const principal& who, std::string action, std::optional<std::string> target_id,
                  std::optional<std::string> pool_id, const nlohmann::json& details,
                  std::string outcome) {
  auto event = audit_event(context, who, std::move(action), std::move(outcome));
  event.target_type = "upstream_account";
  event.target_id = std::move(target_id);
  event.pool_id = std::move(pool_id);
  event.details = details.dump();
  persistence::audit_repository::record_in(sql, event);
}

std::optional<std::string> iso_or_null(const std::optional<time_point>& at) {
  return at ? std::optional<std::string>{to_iso8601(*at)} : std::nullopt;
}

caf::expected<std::string> seal_token(const service_context& context,
                                      const secret<std::string>& token, const std::string& id,
                                      std::string_view kind) {
  auto sealed = persistence::seal(context.upstream_keys, token.expose(),
                                  persistence::secret_scope{secret_purpose, id, kind});
  if (!sealed) {
    return sealed.error();
  }
  return persistence::to_storage(*sealed);
}

caf::expected<secret<std::string>> open_token(const service_context& context,
                                              const std::string& stored, const std::string& id,
                                              std::string_view kind) {
  auto sealed = persistence::from_storage(stored);
  if (!sealed) {
    return sealed.error();
  }
  return persistence::open(context.upstream_keys, *sealed,
                           persistence::secret_scope{secret_purpose, id, kind});
}

} // namespace cxp::domain::detail
