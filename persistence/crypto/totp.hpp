#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.hpp"

namespace cxp::persistence {

/// Digits in a TOTP code.
constexpr int totp_digits = 6;
/// Seconds per TOTP time step.
constexpr int64_t totp_period_seconds = 30;
/// Length in bytes of a new TOTP secret (160 bits, as RFC 4226 recommends for HMAC-SHA1).
constexpr size_t totp_secret_bytes = 20;
/// Largest accepted `window_steps` for `verify_totp`.
constexpr int max_totp_window_steps = 10;
/// Random bytes per recovery code (80 bits, 16 base32 characters).
constexpr size_t recovery_code_bytes = 10;
/// Recovery codes issued at once by default.
constexpr int default_recovery_code_count = 10;

/// RFC 4648 base32, upper case, without padding.
std::string to_base32(std::string_view data);

/// Decodes RFC 4648 base32 in either case, ignoring spaces and trailing '=' padding. Bits left
/// over after the last whole byte are ignored. nullopt on any other character or on a length no
/// encoder can produce.
std::optional<std::string> from_base32(std::string_view text);

/// A fresh random TOTP secret of 20 bytes (raw, not base32).
secret<std::string> new_totp_secret();

/// The RFC 6238 time step that contains `unix_seconds` (floor division by 30).
constexpr int64_t totp_step(int64_t unix_seconds) {
  const auto q = unix_seconds / totp_period_seconds;
  return (unix_seconds % totp_period_seconds < 0) ? q - 1 : q;
}

/// The RFC 6238 code (HMAC-SHA1, 6 digits, 30 s step) for `secret_bytes` at `unix_seconds`, zero
/// padded, e.g. "005924". Precondition: `unix_seconds >= 0`.
std::string totp_code(const secret<std::string>& secret_bytes, int64_t unix_seconds);

/// Checks `code` against the steps from `window_steps` before to `window_steps` after the step of
/// `unix_seconds` (clamped to 0..10), comparing in constant time. Spaces in `code` are ignored;
/// anything but 6 digits is rejected. Returns the matched step, preferring the current one, so the
/// caller can store it and reject a second use of the same or an earlier step.
std::optional<int64_t> verify_totp(const secret<std::string>& secret_bytes, std::string_view code,
                                   int64_t unix_seconds, int window_steps = 1);

/// The Key URI for authenticator apps:
/// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6
/// &period=30 (one line), with the label and issuer percent-encoded. Secret because it contains
/// the TOTP secret: show it once (as a QR code) and never log it.
secret<std::string> otpauth_uri(std::string_view issuer, std::string_view account_email,
                                const secret<std::string>& secret_bytes);

/// `count` fresh recovery codes (none when `count <= 0`), each 10 random bytes as upper-case
/// base32 in groups of four: "ABCD-EFGH-IJKL-MNOP". Store only keyed hashes of
/// `normalize_recovery_code(code)`.
std::vector<secret<std::string>> new_recovery_codes(int count = default_recovery_code_count);

/// The canonical form of a typed recovery code: dashes and whitespace removed, ASCII upper case.
std::string normalize_recovery_code(std::string_view text);

} // namespace cxp::persistence
