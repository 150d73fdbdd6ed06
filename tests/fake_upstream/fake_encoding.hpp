#pragma once

#include <cstddef>
#include <string>

// The fake's own text and digest helpers (kept apart from the product's common/ on purpose: the
// fake is an independent implementation of what the gateway talks to).
namespace cxp::test {

/// base64url without padding.
std::string base64url(const std::string& in);
/// Lower-case hex of `raw`.
std::string to_hex(const std::string& raw);
/// SHA-256 of `in`: raw bytes, or lower-case hex.
std::string sha256_raw(const std::string& in);
std::string sha256_hex(const std::string& in);
/// `n` bytes from OpenSSL's CSPRNG.
std::string random_raw(size_t n);
/// Form decoding (`+` is a space, `%XX` a byte) and RFC 3986 percent-encoding.
std::string url_decode(const std::string& in);
std::string url_encode(const std::string& in);

} // namespace cxp::test
