#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cxp::domain {

/// The message of a text field refused by `display_text_problem` for a control character.
constexpr std::string_view control_characters_message = "must not contain control characters";

/// Why `text` cannot be stored as human-readable text (a name, a label, an email): it is not
/// well-formed UTF-8, or it holds a control character. nullopt when it can.
std::optional<std::string> display_text_problem(std::string_view text);

/// `text` without leading and trailing ASCII spaces, or nullopt when `text` holds a control
/// character (see `has_control_characters`), or the result is empty, is not valid UTF-8 or is
/// longer than `max_code_points` code points. For names shown in the UI and the CLI.
std::optional<std::string> clean_display_text(std::string_view text, size_t max_code_points);

} // namespace cxp::domain
