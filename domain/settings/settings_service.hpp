#pragma once

#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"
#include "domain/settings/settings_registry.hpp"

namespace cxp::domain {

/// Instance settings over the admin API and CLI: the registry's view with sources, and typed,
/// audited updates. Secret settings are write-only: HMAC digests are stored, and no read path
/// returns more than `configured: true`. Owner only.
class settings_service {
public:
  explicit settings_service(service_context& context) : context_(context) {}

  /// Every setting with value (or `configured`), default and source.
  caf::expected<nlohmann::json> list(const principal& who);

  /// Validates every entry of `changes` (key -> value; `null` resets a key to its default) and
  /// writes them in one transaction with one audit event naming the changed keys. Any invalid
  /// entry rejects the whole update with per-key field errors.
  caf::expected<nlohmann::json> update(const principal& who, const nlohmann::json& changes);

private:
  service_context& context_;
};

/// The stored settings as `key -> JSON text`, read now.
caf::expected<std::map<std::string, std::string>> load_stored_settings(persistence::database& db);

/// The stored settings as a snapshot, read now (for code that runs on a db worker and cannot wait
/// for the node's settings cache).
caf::expected<instance_settings> load_instance_settings(persistence::database& db);

} // namespace cxp::domain
