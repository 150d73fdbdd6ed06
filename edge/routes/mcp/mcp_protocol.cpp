#include "edge/routes/mcp/mcp_protocol.hpp"

#include <algorithm>

#include "common/json_input.hpp"
#include "edge/errors/error_table.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

constexpr std::string_view server_name = "codex-pooler";

mcp_refusal refuse(errc code, std::string message, int jsonrpc_code = jsonrpc::server_error,
                   json id = nullptr) {
  return {code, jsonrpc_code, std::move(message), std::move(id)};
}

std::string lower(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The host of an Origin ("scheme://host[:port]"), without brackets for IPv6.
std::string origin_host(std::string_view origin) {
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  auto rest = origin.substr(scheme_end + 3);
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    return close == std::string_view::npos ? std::string{} : std::string{rest.substr(1, close - 1)};
  }
  return std::string{rest.substr(0, rest.find_first_of(":/"))};
}

bool is_loopback_origin(std::string_view origin) {
  const auto host = lower(origin_host(origin));
  return host == "localhost" || host == "127.0.0.1" || host == "::1";
}

bool is_supported_version(std::string_view version) {
  return std::find(mcp_protocol_versions.begin(), mcp_protocol_versions.end(), version)
         != mcp_protocol_versions.end();
}

bool is_valid_id(const json& id) {
  return id.is_string() || id.is_number_integer();
}

json result_of(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json error_of(const json& id, int code, std::string message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json initialize_result(const json& params, const std::string& server_version) {
  const auto asked = params.value("protocolVersion", std::string{});
  const std::string version =
    is_supported_version(asked) ? asked : std::string{mcp_protocol_versions.front()};
  return {
    {"protocolVersion", version},
    {"capabilities", {{"tools", {{"listChanged", false}}}}},
    {"serverInfo", {{"name", server_name}, {"title", "Codex Pooler"}, {"version", server_version}}},
    {"instructions",
     "Read-only operator tools for this Codex Pooler instance: pools, upstream accounts "
     "and their quota windows, Pool API key metadata, operators, invites, request and "
     "audit logs, jobs, usage and settings. Nothing here changes state, and no tool "
     "returns a secret."}};
}

json tool_listing(const domain::principal& who) {
  json tools = json::array();
  for (const auto& tool : domain::mcp_tool_catalog()) {
    if (tool.owner_only && !who.is_owner()) {
      continue;
    }
    tools.push_back({{"name", tool.name},
                     {"title", tool.title},
                     {"description", tool.description},
                     {"inputSchema", tool.input_schema},
                     {"annotations",
                      {{"title", tool.title},
                       {"readOnlyHint", true},
                       {"destructiveHint", false},
                       {"idempotentHint", true},
                       {"openWorldHint", false}}}});
  }
  return {{"tools", tools}};
}

caf::expected<json> call_tool(domain::service_context& context, const domain::principal& who,
                              const mcp_message& message, const std::string& server_version,
                              const std::string& protocol_version) {
  const auto& params = message.params;
  const auto name = params.find("name");
  if (name == params.end() || !name->is_string()) {
    return error_of(message.id, jsonrpc::invalid_params, "params.name must be a tool name");
  }
  const auto arguments = params.value("arguments", json::object());
  if (!arguments.is_object()) {
    return error_of(message.id, jsonrpc::invalid_params, "params.arguments must be an object");
  }
  auto result = domain::call_mcp_tool(context, who, name->get<std::string>(), arguments,
                                      {server_version, protocol_version});
  if (!result) {
    if (to_errc(result.error()) == errc::not_found) {
      return error_of(message.id, jsonrpc::invalid_params,
                      "Unknown tool: " + name->get<std::string>());
    }
    return result.error();
  }
  return result_of(message.id,
                   {{"content", json::array({{{"type", "text"}, {"text", result->text}}})},
                    {"structuredContent", result->structured},
                    {"isError", result->is_error}});
}

} // namespace

std::variant<mcp_message, mcp_refusal> check_mcp_request(const mcp_http_request& request) {
  if (!request.origin.empty() && !is_loopback_origin(request.origin)) {
    return refuse(errc::origin_not_allowed, "Origin not allowed");
  }
  if (lower(request.content_type).find("application/json") == std::string::npos) {
    return refuse(errc::unsupported_media_type, "Content-Type must be application/json");
  }
  const auto accept = lower(request.accept);
  const bool takes_json = accept.find("application/json") != std::string::npos
                          || accept.find("*/*") != std::string::npos
                          || accept.find("application/*") != std::string::npos;
  const bool takes_sse = accept.find("text/event-stream") != std::string::npos;
  if (!takes_json && !takes_sse) {
    return refuse(errc::not_acceptable,
                  "Accept must include application/json or text/event-stream");
  }
  json body;
  if (auto problem = parse_untrusted(request.body, body)) {
    return refuse(errc::invalid_request, "Parse error", jsonrpc::parse_error);
  }
  if (body.is_array()) {
    return refuse(errc::invalid_request, "batch JSON-RPC is not supported",
                  jsonrpc::invalid_request);
  }
  const json id = body.is_object() ? body.value("id", json()) : json();
  const bool is_response = body.is_object() && !body.contains("method")
                           && (body.contains("result") || body.contains("error"));
  if (!body.is_object() || body.value("jsonrpc", json()) != "2.0"
      || (!is_response && !(body.contains("method") && body["method"].is_string()))
      || (body.contains("id") && !is_valid_id(body["id"]))
      || (body.contains("params") && !body["params"].is_object())) {
    return refuse(errc::invalid_request, "Invalid Request", jsonrpc::invalid_request,
                  is_valid_id(id) ? id : json());
  }
  if (!request.protocol_version.empty() && !is_supported_version(request.protocol_version)) {
    return refuse(errc::invalid_request,
                  "Unsupported protocol version: " + request.protocol_version,
                  jsonrpc::invalid_request, id);
  }
  mcp_message message;
  message.id = id;
  message.expects_answer = !is_response && body.contains("id");
  message.method = is_response ? std::string{} : body["method"].get<std::string>();
  message.params = body.value("params", json::object());
  message.answer_as_sse = !takes_json;
  // Without the header, the specification says to assume 2025-03-26.
  message.protocol_version =
    request.protocol_version.empty() ? std::string{"2025-03-26"} : request.protocol_version;
  return message;
}

json render_mcp_refusal(const mcp_refusal& refusal) {
  auto body = error_of(refusal.id, refusal.jsonrpc_code, refusal.message);
  body["error"]["data"] = {{"code", to_string(refusal.code)},
                           {"status", static_cast<unsigned>(lookup_error(refusal.code).status)}};
  return body;
}

caf::expected<json> answer_mcp(domain::service_context& context, const domain::principal& who,
                               const mcp_message& message, const std::string& server_version) {
  const auto& method = message.method;
  if (method == "initialize") {
    return result_of(message.id, initialize_result(message.params, server_version));
  }
  if (method == "ping") {
    return result_of(message.id, json::object());
  }
  if (method == "tools/list") {
    return result_of(message.id, tool_listing(who));
  }
  if (method == "tools/call") {
    return call_tool(context, who, message, server_version, message.protocol_version);
  }
  return error_of(message.id, jsonrpc::method_not_found, "Method not found: " + method);
}

} // namespace cxp::edge
