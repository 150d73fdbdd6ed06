#include "edge/app/service_wiring.hpp"

#include "persistence/crypto/key_hash.hpp"

namespace cxp::edge {

namespace {

caf::expected<persistence::keyring> make_keyring(const std::optional<versioned_key>& key,
                                                 const char* variable,
                                                 const std::vector<versioned_key>& previous = {}) {
  if (!key) {
    return make_error(errc::config_invalid, std::string{variable} + ": is not set");
  }
  std::vector<persistence::versioned_key> older;
  for (const auto& item : previous) {
    older.push_back({item.version, item.key});
  }
  auto ring = persistence::keyring::make({key->version, key->key}, std::move(older));
  if (!ring) {
    return make_error(errc::config_invalid,
                      std::string{variable} + ": " + context_of(ring.error()));
  }
  return ring;
}

} // namespace

caf::expected<std::unique_ptr<service_wiring>> make_service_wiring(const boot_config& config,
                                                                   persistence::database& db) {
  auto upstream = make_keyring(config.upstream_secret_key, "CODEX_POOLER_UPSTREAM_SECRET_KEY",
                               config.upstream_previous_keys);
  if (!upstream) {
    return upstream.error();
  }
  auto totp = make_keyring(config.totp_encryption_key, "CODEX_POOLER_TOTP_ENCRYPTION_KEY");
  if (!totp) {
    return totp.error();
  }
  if (!config.secret_key_base) {
    return make_error(errc::config_invalid, "SECRET_KEY_BASE: is not set");
  }
  auto api_key_hash_key = persistence::derive_key(*config.secret_key_base, "pool-api-key");
  auto token_hash_key = persistence::derive_key(*config.secret_key_base, "operator-token");
  if (!api_key_hash_key || !token_hash_key) {
    return make_error(errc::config_invalid, "SECRET_KEY_BASE: cannot derive keys");
  }
  auto wiring = std::make_unique<service_wiring>(
    service_wiring{{}, std::move(*upstream), std::move(*totp), nullptr});
  wiring->context = std::make_unique<domain::service_context>(
    domain::service_context{db, wiring->clock, wiring->upstream_keys, wiring->totp_keys,
                            std::move(*api_key_hash_key), std::move(*token_hash_key)});
  return wiring;
}

} // namespace cxp::edge
