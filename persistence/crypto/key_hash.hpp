#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "common/secret.hpp"

namespace cxp::persistence {

/// Length in bytes of a key made by `derive_key`.
constexpr size_t derived_key_bytes = 32;
/// How many base64url characters of the digest a `fingerprint` keeps.
constexpr size_t fingerprint_chars = 12;

/// Derives a 32-byte subkey from the instance's `secret_key_base` with HKDF-SHA256 (RFC 5869): no
/// salt, `info` = `purpose` (e.g. "pool_api_key", "session_token"). Different purposes give
/// independent keys, so a hash made for one kind of token never verifies as another. Stored hashes
/// depend on this exact construction. Fails with `errc::invalid_request` when either input is
/// empty and `errc::internal_error` if OpenSSL fails. Callable from any thread.
caf::expected<secret<std::string>> derive_key(const secret<std::string>& secret_key_base,
                                              std::string_view purpose);

/// HMAC-SHA256 of `data` under `key`, as 64 lower-case hex digits. Use it to store tokens that are
/// looked up by value (API keys, session and invite tokens): the hash reveals nothing without the
/// key, and the key is never in the database.
std::string hmac_sha256(const secret<std::string>& key, std::string_view data);

/// The 32 bytes of a SHA-256 digest; they compare as big-endian numbers.
using sha256_digest = std::array<unsigned char, 32>;

/// SHA-256 of `data`. Callable from any thread.
sha256_digest sha256(std::string_view data);

/// SHA-256 of `data`, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

/// True when `a` and `b` are equal, comparing the bytes in time that does not depend on where they
/// differ. Inputs of different lengths are unequal without reading past either; only the length
/// itself leaks, which is public for fixed-size digests.
bool constant_time_equals(std::string_view a, std::string_view b);

/// A short, log-safe tag for a secret: "sha256:" plus the first 12 characters of
/// base64url(SHA-256(data)). It identifies a value in logs without allowing it to be recovered.
std::string fingerprint(std::string_view data);

} // namespace cxp::persistence
