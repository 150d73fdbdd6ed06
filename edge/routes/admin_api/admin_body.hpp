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

namespace cxp::edge {

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

} // namespace cxp::edge
