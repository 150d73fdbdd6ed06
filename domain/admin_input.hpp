#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

namespace cxp::domain {

/// The message of a text field refused by `display_text_problem` for a control character.
constexpr std::string_view control_characters_message = "must not contain control characters";

/// Code points in `text`, or nullopt when it is not well-formed UTF-8 (overlong forms, surrogates
/// and truncated sequences are rejected).
std::optional<size_t> utf8_code_points(std::string_view text);

/// True when `text` holds a control character: C0 (U+0000..U+001F, which takes in ESC and so
/// every ANSI escape sequence, but also tab and newline), DEL (U+007F) or C1 (U+0080..U+009F).
/// Bytes that are not well-formed UTF-8 are not control characters here.
bool has_control_characters(std::string_view text);

/// Why `text` cannot be stored as human-readable text (a name, a label, an email): it is not
/// well-formed UTF-8, or it holds a control character. nullopt when it can.
std::optional<std::string> display_text_problem(std::string_view text);

/// `text` made safe to write to a terminal: each control character becomes `\u00XX` (so a JSON
/// document stays valid JSON) and each byte that is not part of well-formed UTF-8 becomes
/// `\xNN`. `'\n'` is kept when `keep_newlines` (for indented JSON, whose strings already escape
/// their own newlines).
std::string escape_controls(std::string_view text, bool keep_newlines = false);

/// `value` as indented JSON that is safe to print: invalid UTF-8 replaced, DEL and C1 escaped
/// (nlohmann escapes C0 itself). For the admin CLI, which prints what the database holds.
std::string printable_json(const nlohmann::json& value);

/// Strict, typed reads of the top-level fields of an admin request body. A read of a present
/// field with another type (JSON null included, unless the read says null means "clear") records
/// a message for that field instead of coercing, ignoring or defaulting it; `error()` then
/// returns one `validation_failed` error naming every bad field (rendered as 422 with `fields`).
/// Absent fields read as nullopt and are the caller's (or the service's) to require; the content
/// of a text (length, control characters) is the service's to check, so the CLI gets the same.
class admin_body {
public:
  /// `body` must outlive the reader; a body that is not an object is itself an error ("body").
  explicit admin_body(const nlohmann::json& body);

  /// A string, any content (passwords, codes, tokens, ids).
  std::optional<std::string> text(const std::string& name);

  /// A string, or JSON null where null is meaningful ("clear"): nullopt when absent or wrong,
  /// an empty inner optional for null.
  std::optional<std::optional<std::string>> nullable_text(const std::string& name);

  /// An integer (no fractions, no strings, no booleans) within [min, max].
  std::optional<int64_t> integer(const std::string& name, int64_t min, int64_t max);

  /// An array of strings.
  std::optional<std::vector<std::string>> text_list(const std::string& name);

  /// The raw value of a field whose type the caller checks with `accept`; records `message`
  /// when the field is present and `accept` refuses it.
  template <class Accept>
  const nlohmann::json* value(const std::string& name, Accept&& accept, std::string_view message) {
    const auto* found = find(name);
    if (found != nullptr && !accept(*found)) {
      fail(name, std::string{message});
      return nullptr;
    }
    return found;
  }

  /// Whether the field is present (null included).
  bool has(const std::string& name) const;

  /// Records "is required" for `name` when it is absent.
  void require(const std::string& name);

  /// Records "is not a known field" for every top-level field not in `known`.
  void reject_unknown(std::initializer_list<std::string_view> known);

  /// Records `message` for `name` (the first message per field wins).
  void fail(const std::string& name, std::string message);

  /// The validation error naming every bad field, or nullopt when every read succeeded.
  std::optional<caf::error> error() const;

private:
  const nlohmann::json* find(const std::string& name) const;

  const nlohmann::json& body_;
  std::map<std::string, std::string> errors_;
};

} // namespace cxp::domain
