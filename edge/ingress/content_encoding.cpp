#include "edge/ingress/content_encoding.hpp"

#include <algorithm>
#include <array>

#include <zlib.h>

#include "common/encoding.hpp"

namespace cxp::edge {

namespace {

std::string lowercase_trimmed(std::string_view text) {
  return ascii_lowercase(trim_whitespace(text));
}

/// Inflates with zlib's `window_bits` (47: gzip or zlib by header; -15: raw deflate).
std::optional<errc> inflate_into(const std::string& encoded, int window_bits, uint64_t max_bytes,
                                 std::string& decoded) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) {
    return errc::internal_error;
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
  stream.avail_in = static_cast<uInt>(encoded.size());
  std::array<char, 16 * 1024> chunk{};
  int status = Z_OK;
  std::optional<errc> failure;
  while (status != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      failure = errc::invalid_request;
      break;
    }
    decoded.append(chunk.data(), chunk.size() - stream.avail_out);
    if (decoded.size() > max_bytes) {
      failure = errc::payload_too_large;
      break;
    }
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      failure = errc::invalid_request; // truncated: no more input and not at the end
      break;
    }
  }
  inflateEnd(&stream);
  return failure;
}

} // namespace

bool is_accepted_encoding(std::string_view encoding) {
  const auto name = lowercase_trimmed(encoding);
  return name.empty() || name == "identity" || name == "gzip" || name == "x-gzip"
         || name == "deflate";
}

std::optional<errc> decode_body(std::string& body, std::string_view encoding, uint64_t max_bytes) {
  const auto name = lowercase_trimmed(encoding);
  if (name.empty() || name == "identity") {
    return std::nullopt;
  }
  if (!is_accepted_encoding(name)) {
    return errc::unsupported_content_encoding;
  }
  if (body.size() > static_cast<uint64_t>(UINT32_MAX)) {
    return errc::payload_too_large;
  }
  const auto ratio_cap = std::max<uint64_t>(body.size(), 1) * max_inflation_ratio;
  const auto cap = std::min(max_bytes, ratio_cap);
  std::string decoded;
  // `deflate` is zlib-wrapped by the standard, but some clients send raw deflate: try both.
  auto failure = inflate_into(body, 15 + 32, cap, decoded);
  if (failure == errc::invalid_request && name == "deflate") {
    decoded.clear();
    failure = inflate_into(body, -15, cap, decoded);
  }
  if (failure) {
    return failure;
  }
  body = std::move(decoded);
  return std::nullopt;
}

} // namespace cxp::edge
