#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cxp {

/// The deepest nesting of arrays and objects we accept from outside. Every recursive walk of a
/// document (dump, translation, validation) is safe because nothing deeper gets parsed.
constexpr size_t json_max_depth = 128;

/// Why an untrusted document was refused: a message safe to show its sender and the field it
/// concerns (empty for the document as a whole).
struct json_problem {
  std::string message;
  std::string field;
};

/// Whether the arrays and objects in `text` nest at most `max_depth` deep. A linear scan that
/// skips strings, so it is safe on any input, valid JSON or not.
bool nesting_within(std::string_view text, size_t max_depth = json_max_depth);

/// Parses text that came from outside the process (a request body, an upstream event, a frame,
/// an uploaded file): nullopt and `out` set, or the problem (not JSON, or nested too deep).
/// Never throws.
std::optional<json_problem> parse_untrusted(std::string_view text, nlohmann::json& out,
                                            size_t max_depth = json_max_depth);

/// `parse_untrusted` for a document only read at its top level: the whole text is checked the
/// same way, but the values of the top-level members named in `bulky` are not built: each
/// stands in as an empty value of its own type (a string "", an array [], an object {}), so
/// type checks still see it. For a request whose bulk (input, instructions, tools) is forwarded
/// as it came; a caller that must rewrite the document parses it in full.
std::optional<json_problem> parse_untrusted_outline(std::string_view text, nlohmann::json& out,
                                                    std::span<const std::string_view> bulky,
                                                    size_t max_depth = json_max_depth);

/// The top-level `type` of text that is a JSON object with a string member `type` (an event or
/// a frame), checked as `parse_untrusted` checks it but without building the document; nullopt
/// for anything else.
std::optional<std::string> object_type_of(std::string_view text);

namespace detail {
/// nlohmann's own parse behind `parse_untrusted` and `parse_untrusted_outline`: what they fall
/// back to when the fast parser refuses a text, and the reference their tests compare with.
std::optional<json_problem> parse_untrusted_reference(std::string_view text, nlohmann::json& out,
                                                      size_t max_depth = json_max_depth);
std::optional<json_problem>
parse_untrusted_outline_reference(std::string_view text, nlohmann::json& out,
                                  std::span<const std::string_view> bulky,
                                  size_t max_depth = json_max_depth);
} // namespace detail

/// `value` as indented JSON that is safe to print: invalid UTF-8 replaced, DEL and C1 escaped
/// (nlohmann escapes C0 itself). For the admin CLI, which prints what the database holds.
std::string printable_json(const nlohmann::json& value);

/// `object[key]` when `object` is an object holding a string there, else empty. For documents
/// from outside whose shape is not guaranteed (upstream events and error bodies).
std::string string_member(const nlohmann::json& object, std::string_view key);

/// The JSON types a top-level field may be declared with.
enum class json_kind {
  boolean,
  string,
  number,
  integer,
  object,
  array,
  string_or_array,
  string_or_object,
};

/// A top-level field of a request body and the type it must have when present.
struct field_rule {
  std::string_view name;
  json_kind kind;
};

/// Checks the declared fields of `object` (which must be an object): a field that is present
/// with another type is the first problem, naming the field. A `null` declared field counts as
/// absent and is removed, so later typed reads (`value`, `get`) cannot throw; `erased_nulls`
/// says whether that happened (the document must then be re-serialised).
struct field_check {
  std::optional<json_problem> problem;
  bool erased_nulls = false;
};
field_check check_fields(nlohmann::json& object, std::span<const field_rule> rules);
field_check check_fields(nlohmann::json& object, std::initializer_list<field_rule> rules);

} // namespace cxp
