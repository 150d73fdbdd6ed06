#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cxp::domain {

/// A tool's arguments checked against its own input schema (the subset the catalog uses:
/// string with min/max length, integer with minimum/maximum, boolean, `required`,
/// `additionalProperties: false`) with the schema's defaults filled in.
class mcp_tool_input {
public:
  mcp_tool_input(const nlohmann::json& arguments, const nlohmann::json& schema);

  /// Every problem, one line each ("limit: must be between 1 and 100"); empty when valid.
  const std::vector<std::string>& problems() const { return problems_; }

  std::optional<std::string> text(const char* name) const;
  std::optional<int> integer(const char* name) const;
  std::optional<bool> flag(const char* name) const;

private:
  nlohmann::json values_ = nlohmann::json::object();
  std::vector<std::string> problems_;
};

} // namespace cxp::domain
