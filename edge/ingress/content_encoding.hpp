#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/errc.hpp"

namespace cxp::edge {

/// A decoded body may be at most this many times its encoded size: a gzip bomb (1 KiB that
/// inflates to 1 GiB) is refused long before it fills memory.
constexpr uint64_t max_inflation_ratio = 100;

/// Whether the gateway takes request bodies in `encoding` (a `Content-Encoding` value): absent,
/// `identity`, `gzip`, `x-gzip` or `deflate`.
bool is_accepted_encoding(std::string_view encoding);

/// Replaces `body` (sent with `Content-Encoding: encoding`) by its decoded form. Errors:
/// `unsupported_content_encoding` for an encoding we do not take, `invalid_request` for data that
/// does not decode, `payload_too_large` when the decoded body would exceed `max_bytes` or
/// `max_inflation_ratio` times its encoded size. `body` is unchanged on error.
std::optional<errc> decode_body(std::string& body, std::string_view encoding, uint64_t max_bytes);

} // namespace cxp::edge
