#include "domain/admin_input.hpp"

#include "common/encoding.hpp"

namespace cxp::domain {

std::optional<std::string> display_text_problem(std::string_view text) {
  if (!utf8_code_points(text)) {
    return "must be valid UTF-8";
  }
  if (has_control_characters(text)) {
    return std::string{control_characters_message};
  }
  return std::nullopt;
}

std::optional<std::string> clean_display_text(std::string_view text, size_t max_code_points) {
  if (has_control_characters(text)) {
    return std::nullopt;
  }
  text = trim_whitespace(text);
  const auto length = utf8_code_points(text);
  if (text.empty() || !length || *length > max_code_points) {
    return std::nullopt;
  }
  return std::string{text};
}

} // namespace cxp::domain
