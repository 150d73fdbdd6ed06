#include "domain/keys/key_authenticator.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "persistence/api_keys/api_key_repository.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::domain {

key_authenticator::key_authenticator(service_context& context) : context_(context) {}

caf::expected<authenticated_key> key_authenticator::authenticate(std::string_view raw_key) {
  if (raw_key.empty()) {
    return make_error(errc::api_key_missing, "no api key");
  }
  auto parsed = parse_api_key(raw_key);
  if (!parsed) {
    return make_error(errc::api_key_invalid, "malformed api key");
  }
  const auto presented_hash = persistence::hmac_sha256(context_.api_key_hash_key, raw_key);
  persistence::api_key_repository keys{context_.db};
  auto found = keys.find_by_prefix(parsed->prefix);
  if (!found) {
    return found.error();
  }
  if (!*found || !persistence::constant_time_equals(presented_hash, (*found)->key.key_hash)) {
    return make_error(errc::api_key_invalid, "unknown api key " + parsed->prefix);
  }
  auto& row = (*found)->key;
  const auto now = context_.clock.now();
  if (row.status != "active") {
    return make_error(errc::api_key_inactive, "api key " + row.key_prefix + " is " + row.status);
  }
  if (row.expires_at) {
    auto expires = parse_iso8601(*row.expires_at);
    if (!expires || *expires <= now) {
      return make_error(errc::api_key_inactive, "api key " + row.key_prefix + " expired");
    }
  }
  if ((*found)->pool_status != "active") {
    return make_error(errc::api_key_inactive, "pool of api key " + row.key_prefix + " is disabled");
  }
  auto touched = keys.touch_last_used(row.id, now);
  if (!touched) {
    log::warn("admin", "api key last_used_at touch failed",
              {{"key_prefix", row.key_prefix}, {"error", context_of(touched.error())}});
  } else if (*touched) {
    row.last_used_at = to_iso8601(now);
  }
  return authenticated_key{to_view(row)};
}

} // namespace cxp::domain
