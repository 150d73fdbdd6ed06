#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/admin_context.hpp"

namespace cxp::domain {

/// One read-only tool of the operator MCP endpoint.
struct mcp_tool_spec {
  std::string name;
  std::string title;
  /// "Use when … Returns … Never returns … Filters/limits …": what an agent needs to pick it.
  std::string description;
  nlohmann::json input_schema; ///< a JSON Schema object; unknown arguments are refused
  bool owner_only = false;     ///< hidden from, and refused to, an instance_admin
};

/// Every tool, in the order `tools/list` shows them.
const std::vector<mcp_tool_spec>& mcp_tool_catalog();

/// The spec of `name`, or nullptr.
const mcp_tool_spec* find_mcp_tool(std::string_view name);

/// What the service-status tool reports about the endpoint itself.
struct mcp_server_facts {
  std::string version;
  std::string protocol_version;
};

/// A tool's answer: `structured` (a JSON object, already sanitized) and its readable rendering.
/// `is_error` marks a failure the agent can act on (bad argument, not found, ambiguous selector,
/// not allowed): MCP reports those as tool results, not protocol errors.
struct mcp_tool_result {
  nlohmann::json structured;
  std::string text;
  bool is_error = false;
};

/// Runs tool `name` for `who` with `arguments` (a JSON object). Everything it returns went
/// through `sanitize_for_mcp`. An unknown tool (or an owner-only one asked by an instance_admin)
/// is `errc::not_found`; a database failure is returned as the error it is. Synchronous: blocks
/// on the database.
caf::expected<mcp_tool_result> call_mcp_tool(service_context& context, const principal& who,
                                             std::string_view name, const nlohmann::json& arguments,
                                             const mcp_server_facts& facts);

} // namespace cxp::domain
