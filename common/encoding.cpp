#include "common/encoding.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include <openssl/rand.h>

namespace cxp {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr std::string_view base64_alphabet =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+' || c == '-') {
    return 62;
  }
  if (c == '/' || c == '_') {
    return 63;
  }
  return -1;
}

struct code_point {
  uint32_t value;
  size_t length;
};

/// The code point starting at `text[i]`, or nullopt when the bytes there are not well-formed
/// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::optional<code_point> decode_at(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t extra = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  uint32_t value = 0;
  if (lead < 0x80) {
    return code_point{lead, 1};
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    extra = 1;
    value = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    extra = 2;
    value = lead & 0x0Fu;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    extra = 3;
    value = lead & 0x07u;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return std::nullopt;
  }
  if (i + extra >= text.size()) {
    return std::nullopt;
  }
  for (size_t k = 1; k <= extra; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) {
      return std::nullopt;
    }
    value = (value << 6) | (next & 0x3Fu);
  }
  return code_point{value, extra + 1};
}

bool is_control(uint32_t value) {
  return value < 0x20 || (value >= 0x7F && value <= 0x9F);
}

std::string hex_escape(const char* prefix, uint32_t value) {
  return std::string{prefix} + hex_digits[(value >> 4) & 0xFu] + hex_digits[value & 0xFu];
}

} // namespace

std::string to_hex(std::string_view data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(hex_digits[c >> 4]);
    out.push_back(hex_digits[c & 0x0f]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string to_base64(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(data[i]) << 16)
                       | (static_cast<uint8_t>(data[i + 1]) << 8)
                       | static_cast<uint8_t>(data[i + 2]);
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.push_back(base64_alphabet[(n >> 6) & 63]);
    out.push_back(base64_alphabet[n & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    const uint32_t n =
      (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.push_back(base64_alphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string to_base64url(std::string_view data) {
  auto out = to_base64(data);
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (auto& c : out) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  return out;
}

std::optional<std::string> from_base64(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base64_value(c);
    if (v < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without a working CSPRNG no key, token or id can be made safely; continuing would be worse.
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return out;
}

namespace {

/// 16 bytes of the CSPRNG. Two ids per request: RAND_bytes takes a lock per call, so each thread
/// draws its randomness in blocks of 16 ids. Still the CSPRNG's bytes; only the calls are fewer.
std::array<unsigned char, 16> random_id_bytes() {
  thread_local std::array<unsigned char, 256> block{};
  thread_local size_t used = block.size();
  if (used == block.size()) {
    if (RAND_bytes(block.data(), static_cast<int>(block.size())) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    used = 0;
  }
  std::array<unsigned char, 16> raw;
  std::copy_n(block.begin() + static_cast<std::ptrdiff_t>(used), raw.size(), raw.begin());
  std::fill_n(block.begin() + static_cast<std::ptrdiff_t>(used), raw.size(), 0); // used once
  used += raw.size();
  return raw;
}

/// `raw` as a canonical UUID of `version` (RFC 9562 variant bits).
std::string uuid_text(std::array<unsigned char, 16> raw, unsigned version) {
  raw[6] = static_cast<unsigned char>((raw[6] & 0x0f) | (version << 4));
  raw[8] = static_cast<unsigned char>((raw[8] & 0x3f) | 0x80);
  std::string out(36, '-');
  size_t at = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      ++at; // the dash already there
    }
    out[at++] = hex_digits[raw[i] >> 4];
    out[at++] = hex_digits[raw[i] & 0x0f];
  }
  return out;
}

} // namespace

std::string new_uuid() {
  return uuid_text(random_id_bytes(), 4);
}

std::string new_time_ordered_uuid(std::chrono::system_clock::time_point at) {
  auto raw = random_id_bytes();
  const auto millis = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  for (size_t i = 0; i < 6; ++i) {
    raw[i] = static_cast<unsigned char>(millis >> (8 * (5 - i)));
  }
  return uuid_text(raw, 7);
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : hex_value(text[i]) < 0) {
      return false;
    }
  }
  return true;
}

void put_decimal_digits(char* end, uint64_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

std::string ascii_lowercase(std::string_view text) {
  std::string lower{text};
  for (auto& c : lower) {
    c = lower_ascii(c);
  }
  return lower;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower_ascii(x) == lower_ascii(y); });
}

bool is_base64url_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
         || c == '_';
}

std::string_view trim_whitespace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<size_t> utf8_code_points(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    auto point = decode_at(text, i);
    if (!point) {
      return std::nullopt;
    }
    i += point->length;
  }
  return count;
}

bool has_control_characters(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto point = decode_at(text, i);
    if (point && is_control(point->value)) {
      return true;
    }
    i += point ? point->length : 1;
  }
  return false;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
      ++i;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += hex_escape("\\u00", static_cast<unsigned char>(c));
      ++i;
    } else if (static_cast<unsigned char>(c) < 0x80) {
      out += c;
      ++i;
    } else if (auto point = decode_at(text, i)) {
      out.append(text.substr(i, point->length));
      i += point->length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

std::string escape_controls(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto point = decode_at(text, i);
    if (!point) {
      out += hex_escape("\\x", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (is_control(point->value) && !(keep_newlines && point->value == '\n')) {
      out += hex_escape("\\u00", point->value);
    } else {
      out.append(text.substr(i, point->length));
    }
    i += point->length;
  }
  return out;
}

} // namespace cxp
