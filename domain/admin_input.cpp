#include "domain/admin_input.hpp"

#include <algorithm>
#include <array>

#include "common/errc.hpp"

namespace cxp::domain {

namespace {

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
  constexpr std::array<char, 16> digits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                           '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  return std::string{prefix} + digits[(value >> 4) & 0xFu] + digits[value & 0xFu];
}

} // namespace

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

std::optional<std::string> display_text_problem(std::string_view text) {
  if (!utf8_code_points(text)) {
    return "must be valid UTF-8";
  }
  if (has_control_characters(text)) {
    return std::string{control_characters_message};
  }
  return std::nullopt;
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

std::string printable_json(const nlohmann::json& value) {
  return escape_controls(value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), true);
}

admin_body::admin_body(const nlohmann::json& body) : body_(body) {
  if (!body_.is_object()) {
    fail("body", "must be a JSON object");
  }
}

const nlohmann::json* admin_body::find(const std::string& name) const {
  if (!body_.is_object()) {
    return nullptr;
  }
  auto it = body_.find(name);
  return it == body_.end() ? nullptr : &*it;
}

bool admin_body::has(const std::string& name) const {
  return find(name) != nullptr;
}

std::optional<std::string> admin_body::text(const std::string& name) {
  const auto* found = value(
    name, [](const nlohmann::json& v) { return v.is_string(); }, "must be a string");
  return found == nullptr ? std::nullopt : std::optional<std::string>{found->get<std::string>()};
}

std::optional<std::optional<std::string>> admin_body::nullable_text(const std::string& name) {
  const auto* found = value(
    name, [](const nlohmann::json& v) { return v.is_string() || v.is_null(); },
    "must be a string or null");
  if (found == nullptr) {
    return std::nullopt;
  }
  return found->is_null() ? std::optional<std::string>{}
                          : std::optional<std::string>{found->get<std::string>()};
}

std::optional<int64_t> admin_body::integer(const std::string& name, int64_t min, int64_t max) {
  const auto message =
    "must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
  const auto* found = value(
    name,
    [min, max](const nlohmann::json& v) {
      if (v.is_number_unsigned()) {
        return max >= 0 && v.get<uint64_t>() <= static_cast<uint64_t>(max)
               && static_cast<int64_t>(v.get<uint64_t>()) >= min;
      }
      return v.is_number_integer() && v.get<int64_t>() >= min && v.get<int64_t>() <= max;
    },
    message);
  return found == nullptr ? std::nullopt : std::optional<int64_t>{found->get<int64_t>()};
}

std::optional<std::vector<std::string>> admin_body::text_list(const std::string& name) {
  const auto* found = value(
    name,
    [](const nlohmann::json& v) {
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& item) {
               return item.is_string();
             });
    },
    "must be a list of strings");
  return found == nullptr
           ? std::nullopt
           : std::optional<std::vector<std::string>>{found->get<std::vector<std::string>>()};
}

void admin_body::require(const std::string& name) {
  if (body_.is_object() && !has(name)) {
    fail(name, "is required");
  }
}

void admin_body::reject_unknown(std::initializer_list<std::string_view> known) {
  if (!body_.is_object()) {
    return;
  }
  for (const auto& item : body_.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      fail(item.key(), "is not a known field");
    }
  }
}

void admin_body::fail(const std::string& name, std::string message) {
  errors_.emplace(name, std::move(message));
}

std::optional<caf::error> admin_body::error() const {
  if (errors_.empty()) {
    return std::nullopt;
  }
  return make_validation_error(errors_);
}

} // namespace cxp::domain
