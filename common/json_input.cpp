#include "common/json_input.hpp"

#include <algorithm>
#include <utility>

#include <simdjson.h>

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

namespace {

// The fast path: simdjson checks the whole text (grammar, UTF-8, depth) about thirty times faster
// than nlohmann's lexer, then only what is kept is built as nlohmann values. Whatever simdjson
// refuses (invalid text, too deep, an integer beyond 64 bits, a number out of range) goes the
// nlohmann way, which decides, so the answer and its message never depend on the path.

/// Texts up to this size are parsed by the thread's own parser, which keeps its buffers; a
/// larger one gets a parser of its own, so one huge body does not pin its size per thread.
constexpr size_t kept_parser_capacity = size_t{1} << 20;

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser fresh;
    if (fresh.allocate(64 * 1024, json_max_depth) != simdjson::SUCCESS) {
      throw std::bad_alloc{};
    }
    return fresh;
  }();
  return parser;
}

/// `element` as nlohmann builds it: a non-negative integer is unsigned, as nlohmann parses it.
nlohmann::json to_nlohmann(simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
  case element_type::ARRAY: {
    auto out = nlohmann::json::array();
    const simdjson::dom::array items = element.get_array().value_unsafe();
    for (auto item : items) {
      out.push_back(to_nlohmann(item));
    }
    return out;
  }
  case element_type::OBJECT: {
    auto out = nlohmann::json::object();
    const simdjson::dom::object fields = element.get_object().value_unsafe();
    for (auto field : fields) {
      out[std::string{field.key}] = to_nlohmann(field.value); // a repeated key: the last wins
    }
    return out;
  }
  case element_type::INT64: {
    const int64_t value = element.get_int64().value_unsafe();
    return value >= 0 ? nlohmann::json(static_cast<uint64_t>(value)) : nlohmann::json(value);
  }
  case element_type::UINT64:
    return element.get_uint64().value_unsafe();
  case element_type::DOUBLE:
    return element.get_double().value_unsafe();
  case element_type::STRING:
    return std::string{element.get_string().value_unsafe()};
  case element_type::BOOL:
    return element.get_bool().value_unsafe();
  case element_type::NULL_VALUE:
    break;
  }
  return nullptr;
}

/// The empty value of `element`'s type when it is a string, an array or an object; else the
/// (small) value itself.
nlohmann::json stub_of(simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
  case element_type::STRING:
    return "";
  case element_type::ARRAY:
    return nlohmann::json::array();
  case element_type::OBJECT:
    return nlohmann::json::object();
  default:
    return to_nlohmann(element);
  }
}

/// Parses `text` with simdjson and hands the root to `use`; false when simdjson refuses it (the
/// caller then asks nlohmann) or `max_depth` is not the parser's.
template <typename Use>
bool with_fast_parse(std::string_view text, size_t max_depth, Use&& use) {
  if (max_depth != json_max_depth) {
    return false;
  }
  auto run = [&](simdjson::dom::parser& parser) {
    auto root = parser.parse(text.data(), text.size());
    if (root.error() != simdjson::SUCCESS) {
      return false;
    }
    use(root.value_unsafe());
    return true;
  };
  if (text.size() <= kept_parser_capacity) {
    return run(thread_parser());
  }
  simdjson::dom::parser own;
  return own.allocate(text.size(), json_max_depth) == simdjson::SUCCESS && run(own);
}

} // namespace

std::optional<json_problem> parse_untrusted(std::string_view text, nlohmann::json& out,
                                            size_t max_depth) {
  if (with_fast_parse(text, max_depth,
                      [&](simdjson::dom::element root) { out = to_nlohmann(root); })) {
    return std::nullopt;
  }
  return detail::parse_untrusted_reference(text, out, max_depth);
}

std::optional<std::string> object_type_of(std::string_view text) {
  std::optional<std::string> type;
  auto read = [&](simdjson::dom::element root) {
    if (!root.is_object()) {
      return;
    }
    const simdjson::dom::object fields = root.get_object().value_unsafe();
    for (auto field : fields) {
      if (field.key == "type") { // a repeated key: the last wins, as in a parsed document
        std::string_view value;
        type = field.value.get(value) == simdjson::SUCCESS ? std::optional{std::string{value}}
                                                           : std::nullopt;
      }
    }
  };
  if (!with_fast_parse(text, json_max_depth, read)) {
    nlohmann::json parsed;
    if (!detail::parse_untrusted_reference(text, parsed, json_max_depth) && parsed.is_object()) {
      if (auto it = parsed.find("type"); it != parsed.end() && it->is_string()) {
        type = it->get<std::string>();
      }
    }
  }
  return type;
}

std::optional<json_problem>
detail::parse_untrusted_reference(std::string_view text, nlohmann::json& out, size_t max_depth) {
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
  auto outline = [&](simdjson::dom::element root) {
    if (!root.is_object()) {
      out = to_nlohmann(root); // only an object's members are outlined
      return;
    }
    auto built = nlohmann::json::object();
    const simdjson::dom::object fields = root.get_object().value_unsafe();
    for (auto field : fields) {
      const bool is_bulky = std::find(bulky.begin(), bulky.end(), field.key) != bulky.end();
      built[std::string{field.key}] = is_bulky ? stub_of(field.value) : to_nlohmann(field.value);
    }
    out = std::move(built);
  };
  if (with_fast_parse(text, max_depth, outline)) {
    return std::nullopt;
  }
  return detail::parse_untrusted_outline_reference(text, out, bulky, max_depth);
}

std::optional<json_problem>
detail::parse_untrusted_outline_reference(std::string_view text, nlohmann::json& out,
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
