#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "common/secret.hpp"

namespace cxp::persistence {

/// AES-256 key length in bytes.
constexpr size_t secret_box_key_bytes = 32;
/// GCM nonce length in bytes; nonces are random, so one key must seal fewer than 2^32 values.
constexpr size_t secret_box_nonce_bytes = 12;
/// GCM authentication tag length in bytes.
constexpr size_t secret_box_tag_bytes = 16;
/// Longest accepted key version label.
constexpr size_t max_key_version_length = 32;

/// One named AES-256 key. `version` is a short label such as "v1": 1 to 32 characters from
/// [A-Za-z0-9_-], so it fits unescaped in the storage text and the AAD.
struct versioned_key {
  std::string version;
  secret<std::string> key;
};

/// The keys for secrets at rest: one current key that seals, plus older keys that only open, so
/// rows sealed before a rotation stay readable until they are resealed. Immutable once built,
/// hence safe to share between threads (e.g. as `std::shared_ptr<const keyring>`).
class keyring {
public:
  /// Builds a keyring. Fails with `errc::invalid_request` when a key is not 32 bytes, a version
  /// label is malformed or two keys share a version. The error context never contains key bytes.
  static caf::expected<keyring> make(versioned_key current,
                                     std::vector<versioned_key> previous = {});

  /// The version that `seal` uses.
  const std::string& current_version() const noexcept;

  /// The key named `version`, or nullptr when the keyring does not hold it. The pointer lives as
  /// long as the keyring.
  const secret<std::string>* find(std::string_view version) const noexcept;

private:
  explicit keyring(std::vector<versioned_key> keys);

  /// The current key first, then the previous ones.
  std::vector<versioned_key> keys_;
};

/// One sealed value, as raw bytes.
struct sealed_secret {
  /// The version of the key that sealed it.
  std::string key_version;
  /// 12 random bytes.
  std::string nonce;
  /// The 16-byte GCM tag followed by the AES-256-GCM ciphertext.
  std::string ciphertext;
};

/// Where a secret lives; bound into the AAD so that a ciphertext copied to another row, column or
/// purpose no longer opens.
struct secret_scope {
  /// The owning table or feature, e.g. "upstream".
  std::string_view purpose;
  /// The primary key of the owning row.
  std::string_view row_id;
  /// Which secret of the row, e.g. "access_token".
  std::string_view secret_kind;
};

/// The canonical AAD: JSON with sorted keys and no spaces, e.g.
/// {"algorithm":"AES-256-GCM","key_version":"v1","purpose":"upstream","row_id":"…",
/// "secret_kind":"access_token"}. Strings are JSON-escaped; the same inputs always give the same
/// bytes, which is what stored ciphertexts depend on, so this format must never change.
std::string make_aad(std::string_view purpose, std::string_view row_id,
                     std::string_view secret_kind, std::string_view key_version);

/// Encrypts `plaintext` with the current key and a fresh random nonce, authenticating `aad`,
/// which the caller builds with `make_aad(..., ring.current_version())`. Fails with
/// `errc::invalid_request` for inputs over 2 GiB and `errc::internal_error` if OpenSSL fails.
/// Pure function of its arguments and the CSPRNG; callable from any thread.
caf::expected<sealed_secret> seal(const keyring& ring, std::string_view plaintext,
                                  std::string_view aad);

/// `seal` with the AAD built from `scope` and the current key version.
caf::expected<sealed_secret> seal(const keyring& ring, std::string_view plaintext,
                                  const secret_scope& scope);

/// Decrypts `sealed` with the key named by its `key_version`, checking the tag over the
/// ciphertext and `aad` (built with `make_aad(..., sealed.key_version)`). Fails with
/// `errc::decryption_failed` when the version is unknown (the context names the version), the
/// sizes are wrong, or the tag does not match; no partial plaintext is ever returned.
caf::expected<secret<std::string>> open(const keyring& ring, const sealed_secret& sealed,
                                        std::string_view aad);

/// `open` with the AAD built from `scope` and `sealed.key_version`.
caf::expected<secret<std::string>> open(const keyring& ring, const sealed_secret& sealed,
                                        const secret_scope& scope);

/// True when `sealed` was made with an older key and should be resealed with the current one.
bool needs_reseal(const keyring& ring, const sealed_secret& sealed);

/// The text form for a TEXT column: `<version>.<base64url nonce>.<base64url tag||ciphertext>`,
/// base64url without padding.
std::string to_storage(const sealed_secret& sealed);

/// Parses the output of `to_storage`. Fails with `errc::decryption_failed` when the text does not
/// have three parts, the version label is malformed, a part is not canonical base64url, or the
/// nonce or ciphertext has the wrong size. Does not check that the version is in any keyring.
caf::expected<sealed_secret> from_storage(std::string_view text);

} // namespace cxp::persistence
