#include "common/json_input.hpp"

#include <algorithm>
#include <utility>

#include "common/encoding.hpp"

namespace cxp {

namespace {

std::string_view kind_name(json_kind kind) {
  switch (kind) {
  case json_kind::boolean:
    return "a boolean";
  case json_kind::string:
    return "a string";
  case json_kind::number:
    return "a number";
  case json_kind::integer:
    return "an integer";
  case json_kind::object:
    return "an object";
  case json_kind::array:
    return "an array";
  case json_kind::string_or_array:
    return "a string or an array";
  case json_kind::string_or_object:
    return "a string or an object";
  }
  return "of another type";
}

bool has_kind(const nlohmann::json& value, json_kind kind) {
  switch (kind) {
  case json_kind::boolean:
    return value.is_boolean();
  case json_kind::string:
    return value.is_string();
  case json_kind::number:
    return value.is_number();
  case json_kind::integer:
    return value.is_number_integer();
  case json_kind::object:
    return value.is_object();
  case json_kind::array:
    return value.is_array();
  case json_kind::string_or_array:
    return value.is_string() || value.is_array();
  case json_kind::string_or_object:
    return value.is_string() || value.is_object();
  }
  return false;
}

} // namespace

std::string printable_json(const nlohmann::json& value) {
  return escape_controls(value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), true);
}

std::string string_member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) {
    return {};
  }
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool nesting_within(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
    case '"':
      in_string = true;
      break;
    case '[':
    case '{':
      if (++depth > max_depth) {
        return false;
      }
      break;
    case ']':
    case '}':
      if (depth > 0) {
        --depth;
      }
      break;
    default:
      break;
    }
  }
  return true;
}

std::optional<json_problem> parse_untrusted(std::string_view text, nlohmann::json& out,
                                            size_t max_depth) {
  if (!nesting_within(text, max_depth)) {
    return json_problem{"JSON nested deeper than " + std::to_string(max_depth) + " levels", {}};
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    return json_problem{"body is not valid JSON", {}};
  }
  out = std::move(parsed);
  return std::nullopt;
}

namespace {

/// Builds the document through nlohmann's own DOM builder, except inside the values of bulky
/// top-level members, which it replaces by an empty value of their type and then skips.
class outline_builder {
public:
  using json = nlohmann::json;
  using dom_builder = nlohmann::detail::json_sax_dom_parser<json>;

  outline_builder(json& out, std::span<const std::string_view> bulky)
      : dom_(out, false),
        bulky_(bulky) {}

  bool null() { return scalar_dropped() || dom_.null(); }
  bool boolean(bool value) { return scalar_dropped() || dom_.boolean(value); }
  bool number_integer(json::number_integer_t value) {
    return scalar_dropped() || dom_.number_integer(value);
  }
  bool number_unsigned(json::number_unsigned_t value) {
    return scalar_dropped() || dom_.number_unsigned(value);
  }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    return scalar_dropped() || dom_.number_float(value, text);
  }
  bool string(json::string_t& value) {
    if (skip_level_ > 0) {
      return true;
    }
    if (std::exchange(bulky_next_, false)) {
      json::string_t empty;
      return dom_.string(empty);
    }
    return dom_.string(value);
  }
  bool binary(json::binary_t& value) { return scalar_dropped() || dom_.binary(value); }
  bool key(json::string_t& name) {
    if (skip_level_ > 0) {
      return true;
    }
    bulky_next_ = depth_ == 1 && is_bulky(name);
    return dom_.key(name);
  }
  bool start_object(std::size_t size) { return opening_dropped() || dom_.start_object(size); }
  bool end_object() { return closing_dropped() || dom_.end_object(); }
  bool start_array(std::size_t size) { return opening_dropped() || dom_.start_array(size); }
  bool end_array() { return closing_dropped() || dom_.end_array(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

private:
  bool is_bulky(std::string_view name) const {
    return std::find(bulky_.begin(), bulky_.end(), name) != bulky_.end();
  }
  /// Whether a scalar event is dropped (inside a bulky container); a scalar in a bulky slot of
  /// another type than string is small and kept.
  bool scalar_dropped() {
    bulky_next_ = false;
    return skip_level_ > 0;
  }
  /// A container opening: dropped inside a bulky one; a bulky one itself is built (empty).
  bool opening_dropped() {
    ++depth_;
    if (skip_level_ > 0) {
      return true;
    }
    if (std::exchange(bulky_next_, false)) {
      skip_level_ = depth_;
    }
    return false;
  }
  /// A container closing: dropped inside a bulky one; the bulky one itself is closed.
  bool closing_dropped() {
    const bool inside = skip_level_ > 0 && depth_ > skip_level_;
    if (skip_level_ == depth_) {
      skip_level_ = 0;
    }
    --depth_;
    return inside;
  }

  dom_builder dom_;
  std::span<const std::string_view> bulky_;
  size_t depth_ = 0;        ///< containers open around the current event
  size_t skip_level_ = 0;   ///< depth of the bulky container being skipped, 0 when none
  bool bulky_next_ = false; ///< the next value is a bulky member's
};

} // namespace

std::optional<json_problem> parse_untrusted_outline(std::string_view text, nlohmann::json& out,
                                                    std::span<const std::string_view> bulky,
                                                    size_t max_depth) {
  if (!nesting_within(text, max_depth)) {
    return json_problem{"JSON nested deeper than " + std::to_string(max_depth) + " levels", {}};
  }
  nlohmann::json parsed;
  outline_builder builder{parsed, bulky};
  if (!nlohmann::json::sax_parse(text, &builder)) {
    return json_problem{"body is not valid JSON", {}};
  }
  out = std::move(parsed);
  return std::nullopt;
}

field_check check_fields(nlohmann::json& object, std::initializer_list<field_rule> rules) {
  return check_fields(object, std::span<const field_rule>{rules.begin(), rules.size()});
}

field_check check_fields(nlohmann::json& object, std::span<const field_rule> rules) {
  field_check check;
  if (!object.is_object()) {
    check.problem = json_problem{"body must be a JSON object", {}};
    return check;
  }
  for (const auto& rule : rules) {
    auto it = object.find(rule.name);
    if (it == object.end()) {
      continue;
    }
    if (it->is_null()) {
      object.erase(it);
      check.erased_nulls = true;
      continue;
    }
    if (!has_kind(*it, rule.kind)) {
      const std::string field{rule.name};
      check.problem =
        json_problem{"'" + field + "' must be " + std::string{kind_name(rule.kind)}, field};
      return check;
    }
  }
  return check;
}

} // namespace cxp
