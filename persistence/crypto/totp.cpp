#include "persistence/crypto/totp.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdio>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/encoding.hpp"

namespace cxp::persistence {

namespace {

constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr uint32_t totp_modulus = 1'000'000;
constexpr size_t recovery_group_chars = 4;
constexpr size_t sha1_bytes = 20;

int base32_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a';
  }
  if (c >= '2' && c <= '7') {
    return c - '2' + 26;
  }
  return -1;
}

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0x0f]);
    }
  }
  return out;
}

std::string code_for_step(const std::string& key, uint64_t step) {
  std::array<unsigned char, 8> counter{};
  for (size_t i = counter.size(); i-- > 0;) {
    counter[i] = static_cast<unsigned char>(step & 0xff);
    step >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), counter.data(), counter.size(),
           mac.data(), &len)
        == nullptr
      || len != sha1_bytes) {
    // Only allocation failure or a missing default provider gets here; a made-up code would be
    // worse than stopping. TODO(crypto): switch to CXP_PANIC once common/ provides it.
    std::fputs("cxp: OpenSSL HMAC-SHA1 failed\n", stderr);
    std::abort();
  }
  const auto offset = mac[sha1_bytes - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24)
                          | (static_cast<uint32_t>(mac[offset + 1]) << 16)
                          | (static_cast<uint32_t>(mac[offset + 2]) << 8)
                          | static_cast<uint32_t>(mac[offset + 3]);
  std::string text(static_cast<size_t>(totp_digits), '0');
  put_decimal_digits(text.data() + text.size(), binary % totp_modulus, text.size());
  return text;
}

} // namespace

std::string to_base32(std::string_view data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : data) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(base32_alphabet[(buffer >> bits) & 0x1f]);
    }
  }
  if (bits > 0) {
    out.push_back(base32_alphabet[(buffer << (5 - bits)) & 0x1f]);
  }
  return out;
}

std::optional<std::string> from_base32(std::string_view text) {
  while (!text.empty() && (text.back() == '=' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  size_t chars = 0;
  for (char c : text) {
    if (c == ' ') {
      continue;
    }
    const int v = base32_value(c);
    if (v < 0) {
      return std::nullopt;
    }
    ++chars;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // A final group of 1, 3 or 6 characters cannot come from whole bytes.
  const auto rest = chars % 8;
  if (rest == 1 || rest == 3 || rest == 6) {
    return std::nullopt;
  }
  return out;
}

secret<std::string> new_totp_secret() {
  return secret<std::string>{random_bytes(totp_secret_bytes)};
}

std::string totp_code(const secret<std::string>& secret_bytes, int64_t unix_seconds) {
  assert(unix_seconds >= 0);
  const auto step = std::max<int64_t>(totp_step(unix_seconds), 0);
  return code_for_step(secret_bytes.expose(), static_cast<uint64_t>(step));
}

std::optional<int64_t> verify_totp(const secret<std::string>& secret_bytes, std::string_view code,
                                   int64_t unix_seconds, int window_steps) {
  std::string digits;
  for (char c : code) {
    if (c == ' ') {
      continue;
    }
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    digits.push_back(c);
  }
  if (digits.size() != static_cast<size_t>(totp_digits)) {
    return std::nullopt;
  }
  const auto window = std::clamp(window_steps, 0, max_totp_window_steps);
  const auto now = totp_step(unix_seconds);
  std::optional<int64_t> matched;
  // Every candidate is computed and compared so the time taken does not say which step matched.
  for (int i = 0; i <= 2 * window; ++i) {
    // Order 0, -1, +1, -2, +2, ... so the current step wins a (one in a million) tie.
    const int offset = (i % 2 == 0) ? i / 2 : -(i + 1) / 2;
    const auto step = now + offset;
    if (step < 0) {
      continue;
    }
    const auto expected = code_for_step(secret_bytes.expose(), static_cast<uint64_t>(step));
    if (CRYPTO_memcmp(expected.data(), digits.data(), digits.size()) == 0 && !matched) {
      matched = step;
    }
  }
  return matched;
}

secret<std::string> otpauth_uri(std::string_view issuer, std::string_view account_email,
                                const secret<std::string>& secret_bytes) {
  const auto encoded_issuer = percent_encode(issuer);
  return secret<std::string>{
    "otpauth://totp/" + encoded_issuer + ":" + percent_encode(account_email) + "?secret="
    + to_base32(secret_bytes.expose()) + "&issuer=" + encoded_issuer + "&algorithm=SHA1&digits="
    + std::to_string(totp_digits) + "&period=" + std::to_string(totp_period_seconds)};
}

std::vector<secret<std::string>> new_recovery_codes(int count) {
  std::vector<secret<std::string>> codes;
  if (count <= 0) {
    return codes;
  }
  codes.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto raw = to_base32(random_bytes(recovery_code_bytes));
    std::string grouped;
    for (size_t j = 0; j < raw.size(); ++j) {
      if (j > 0 && j % recovery_group_chars == 0) {
        grouped.push_back('-');
      }
      grouped.push_back(raw[j]);
    }
    codes.emplace_back(std::move(grouped));
  }
  return codes;
}

std::string normalize_recovery_code(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      continue;
    }
    out.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

} // namespace cxp::persistence
