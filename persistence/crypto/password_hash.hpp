#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace cxp::persistence {

/// Argon2id memory cost in KiB (OWASP: 19 MiB).
constexpr uint32_t argon2_memory_kib = 19456;
/// Argon2id passes over memory (OWASP: 2).
constexpr uint32_t argon2_iterations = 2;
/// Argon2id lanes (OWASP: 1).
constexpr uint32_t argon2_parallelism = 1;
/// Random salt length in bytes.
constexpr size_t argon2_salt_bytes = 16;
/// Raw hash length in bytes.
constexpr size_t argon2_hash_bytes = 32;

/// Hashes `password` with Argon2id, the parameters above and a fresh random salt, returning the
/// standard encoded form "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" (which carries its own
/// parameters). Costs about 50 ms of CPU and 19 MiB, so it belongs on a `db_worker` or other
/// detached actor, never an event loop. Fails with `errc::invalid_request` for a password over
/// 4 GiB and `errc::internal_error` if libargon2 fails.
caf::expected<std::string> hash_password(std::string_view password);

/// True when `password` matches `encoded` (an Argon2id encoded string, using the parameters stored
/// in it). A malformed `encoded` or another Argon2 variant is a mismatch. Same cost as hashing.
bool verify_password(std::string_view encoded, std::string_view password);

/// Spends the time of one `verify_password` against a hash with the current parameters and
/// returns nothing. Call it when the user does not exist, so the response time does not tell
/// callers which accounts exist.
void dummy_verify(std::string_view password = {});

/// True when `encoded` was not made with the current parameters, so the caller should rehash the
/// password after a successful verify.
bool needs_rehash(std::string_view encoded);

} // namespace cxp::persistence
