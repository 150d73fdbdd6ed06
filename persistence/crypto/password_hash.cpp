#include "persistence/crypto/password_hash.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include <openssl/crypto.h>

#include <argon2.h>

#include "common/encoding.hpp"
#include "common/errc.hpp"

namespace cxp::persistence {

namespace {

bool fits_u32(size_t n) {
  return n <= std::numeric_limits<uint32_t>::max();
}

std::string current_prefix() {
  return "$argon2id$v=" + std::to_string(ARGON2_VERSION_13)
         + "$m=" + std::to_string(argon2_memory_kib) + ",t=" + std::to_string(argon2_iterations)
         + ",p=" + std::to_string(argon2_parallelism) + "$";
}

} // namespace

caf::expected<std::string> hash_password(std::string_view password) {
  if (!fits_u32(password.size())) {
    return make_error(errc::invalid_request, "hash_password: password too long");
  }
  const auto salt = random_bytes(argon2_salt_bytes);
  std::string encoded(argon2_encodedlen(argon2_iterations, argon2_memory_kib, argon2_parallelism,
                                        argon2_salt_bytes, argon2_hash_bytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(argon2_iterations, argon2_memory_kib, argon2_parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       argon2_hash_bytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return make_error(errc::internal_error,
                      std::string{"hash_password: argon2id failed: "} + argon2_error_message(rc));
  }
  // argon2_encodedlen counts the terminating NUL and may overestimate.
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (!fits_u32(password.size())) {
    return false;
  }
  // libargon2 reads `encoded` as a C string.
  const std::string encoded_z{encoded};
  if (encoded_z.find('\0') != std::string::npos) {
    return false;
  }
  return argon2id_verify(encoded_z.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void dummy_verify(std::string_view password) {
  // The same Argon2id work as a verify with the current parameters; the salt need not be secret
  // because the result is thrown away.
  static constexpr std::array<uint8_t, argon2_salt_bytes> salt{
    'c', 'x', 'p', '-', 'd', 'u', 'm', 'm', 'y', '-', 's', 'a', 'l', 't', '-', '!'};
  std::array<uint8_t, argon2_hash_bytes> out{};
  const auto size = fits_u32(password.size()) ? password.size() : 0;
  argon2id_hash_raw(argon2_iterations, argon2_memory_kib, argon2_parallelism, password.data(), size,
                    salt.data(), salt.size(), out.data(), out.size());
  OPENSSL_cleanse(out.data(), out.size());
}

bool needs_rehash(std::string_view encoded) {
  return encoded.substr(0, current_prefix().size()) != current_prefix();
}

} // namespace cxp::persistence
