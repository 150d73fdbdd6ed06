#include "domain/mcp/mcp_tool_input.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

std::optional<std::string> problem_with(const json& value, const json& rule) {
  const auto type = rule.value("type", std::string{});
  if (type == "string") {
    if (!value.is_string()) {
      return "must be a string";
    }
    const auto length = value.get_ref<const std::string&>().size();
    if (length < rule.value("minLength", size_t{0})
        || length > rule.value("maxLength", std::string::npos)) {
      return "must be " + std::to_string(rule.value("minLength", 0)) + " to "
             + std::to_string(rule.value("maxLength", 0)) + " characters";
    }
    return std::nullopt;
  }
  if (type == "integer") {
    if (!value.is_number_integer()) {
      return "must be an integer";
    }
    const auto number = value.get<int64_t>();
    const auto min = rule.value("minimum", int64_t{0});
    const auto max = rule.value("maximum", int64_t{0});
    if (number < min || number > max) {
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    return std::nullopt;
  }
  if (type == "boolean" && !value.is_boolean()) {
    return "must be true or false";
  }
  return std::nullopt;
}

} // namespace

mcp_tool_input::mcp_tool_input(const json& arguments, const json& schema) {
  if (!arguments.is_object()) {
    problems_.emplace_back("arguments: must be an object");
    return;
  }
  const auto& properties = schema.at("properties");
  for (const auto& [name, value] : arguments.items()) {
    if (!properties.contains(name)) {
      problems_.push_back(name + ": is not an argument of this tool");
      continue;
    }
    if (value.is_null()) {
      continue; // an explicit null means "not given"
    }
    if (auto problem = problem_with(value, properties.at(name))) {
      problems_.push_back(name + ": " + *problem);
      continue;
    }
    values_[name] = value;
  }
  for (const auto& required : schema.value("required", json::array())) {
    if (!values_.contains(required.get<std::string>())) {
      problems_.push_back(required.get<std::string>() + ": is required");
    }
  }
  for (const auto& [name, rule] : properties.items()) {
    if (!values_.contains(name) && rule.contains("default")) {
      values_[name] = rule["default"];
    }
  }
}

std::optional<std::string> mcp_tool_input::text(const char* name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->is_string() ? std::optional{it->get<std::string>()}
                                                : std::nullopt;
}

std::optional<int> mcp_tool_input::integer(const char* name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->is_number_integer() ? std::optional{it->get<int>()}
                                                        : std::nullopt;
}

std::optional<bool> mcp_tool_input::flag(const char* name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->is_boolean() ? std::optional{it->get<bool>()} : std::nullopt;
}

} // namespace cxp::domain
