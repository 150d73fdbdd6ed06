#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cxp {

using bytes = std::vector<uint8_t>;

/// Lower-case hex of `data`.
std::string to_hex(std::string_view data);

/// Decodes hex (either case); nullopt on odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view text);

/// Standard base64 with padding.
std::string to_base64(std::string_view data);

/// base64url without padding (RFC 4648 §5), as used in tokens and JWTs.
std::string to_base64url(std::string_view data);

/// Decodes standard or url-safe base64, padded or not; nullopt on malformed input.
std::optional<std::string> from_base64(std::string_view text);

/// `n` bytes from OpenSSL's CSPRNG.
std::string random_bytes(size_t n);

/// A random RFC 4122 version-4 UUID in canonical lower-case form.
std::string new_uuid();

/// A version-7 UUID (RFC 9562): the Unix milliseconds of `at`, then 74 random bits. Ids made
/// later sort later, so rows keyed by them are appended to their indexes instead of landing on
/// random pages (the request log's rows, one or more per request).
std::string
new_time_ordered_uuid(std::chrono::system_clock::time_point at = std::chrono::system_clock::now());

/// True when `text` is a canonical UUID (8-4-4-4-12 hex digits).
bool is_uuid(std::string_view text);

/// Writes the last `width` decimal digits of `value`, zero-padded, into the `width` characters
/// that end just before `end` (fixed-width fields such as a timestamp's or a one-time code's).
void put_decimal_digits(char* end, uint64_t value, size_t width);

/// `text` with ASCII letters lower-cased (header names, codings, tokens).
std::string ascii_lowercase(std::string_view text);

/// Whether `a` and `b` are equal ignoring ASCII case (header values, schemes, model slugs).
bool ascii_iequals(std::string_view a, std::string_view b);

/// Whether `c` is in the base64url alphabet (RFC 4648 §5): ASCII letters, digits, '-' and '_'.
bool is_base64url_char(char c);

/// `text` without leading and trailing whitespace (`std::isspace`).
std::string_view trim_whitespace(std::string_view text);

/// Code points in `text`, or nullopt when it is not well-formed UTF-8 (overlong forms, surrogates
/// and truncated sequences are rejected).
std::optional<size_t> utf8_code_points(std::string_view text);

/// True when `text` holds a control character: C0 (U+0000..U+001F, which takes in ESC and so
/// every ANSI escape sequence, but also tab and newline), DEL (U+007F) or C1 (U+0080..U+009F).
/// Bytes that are not well-formed UTF-8 are not control characters here.
bool has_control_characters(std::string_view text);

/// `text` made safe to write to a terminal: each control character becomes `\u00XX` (so a JSON
/// document stays valid JSON) and each byte that is not part of well-formed UTF-8 becomes
/// `\xNN`. `'\n'` is kept when `keep_newlines` (for indented JSON, whose strings already escape
/// their own newlines).
std::string escape_controls(std::string_view text, bool keep_newlines = false);

/// Appends `text` to `out` as a JSON string literal, quotes included: `"` and `\` escaped, C0
/// controls as `\u00XX`, each byte that is not part of well-formed UTF-8 replaced by U+FFFD.
/// For JSON written on the hot path without building a document first.
void append_json_string(std::string& out, std::string_view text);

} // namespace cxp
