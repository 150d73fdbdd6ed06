#include "common/json_input.hpp"

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
