#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/errc.hpp"
#include "domain/admin_context.hpp"
#include "domain/mcp/mcp_tools.hpp"

namespace cxp::edge {

/// The MCP protocol versions `/mcp` speaks, newest first: `initialize` answers the client's
/// version when it is one of these, else the newest; a request's `mcp-protocol-version` header
/// must name one of them.
inline constexpr std::array<std::string_view, 4> mcp_protocol_versions = {
  "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

/// JSON-RPC 2.0 error codes.
namespace jsonrpc {
constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int method_not_found = -32601;
constexpr int invalid_params = -32602;
constexpr int internal_error = -32603;
/// The server-defined code of every transport and authorization refusal; `data.code` carries
/// our stable `errc` name.
constexpr int server_error = -32000;
} // namespace jsonrpc

/// What the transport checks of one `POST /mcp` look at.
struct mcp_http_request {
  std::string origin;
  std::string content_type;
  std::string accept;
  std::string protocol_version; ///< the `mcp-protocol-version` header, empty when absent
  std::string body;
};

/// A refusal: the HTTP status comes from the error table for `code`; the body is a JSON-RPC
/// error with `jsonrpc_code`, `message` and `data.code` = the errc name.
struct mcp_refusal {
  errc code = errc::invalid_request;
  int jsonrpc_code = jsonrpc::server_error;
  std::string message;
  nlohmann::json id = nullptr;
};

/// One JSON-RPC message that passed the checks.
struct mcp_message {
  nlohmann::json id;           ///< null for a notification (or a client's response)
  bool expects_answer = false; ///< a request (has an id); notifications and responses get 202
  std::string method;
  nlohmann::json params = nlohmann::json::object();
  bool answer_as_sse = false;   ///< the client accepts only text/event-stream
  std::string protocol_version; ///< the header's, or 2025-03-26 when absent (as the spec says)
};

/// The checks before authentication, in order: `Origin` absent or loopback (DNS-rebinding
/// protection: origin_not_allowed), content type JSON (unsupported_media_type), `Accept` allows
/// application/json or text/event-stream (not_acceptable), the body parses (-32700) as one
/// JSON-RPC 2.0 object (a batch and any other shape: -32600), and the `mcp-protocol-version`
/// header, when present, is supported (-32600).
std::variant<mcp_message, mcp_refusal> check_mcp_request(const mcp_http_request& request);

/// The JSON-RPC body of `refusal`.
nlohmann::json render_mcp_refusal(const mcp_refusal& refusal);

/// Answers an authenticated request: `initialize`, `ping`, `tools/list`, `tools/call`; any other
/// method is -32601, bad params -32602. The result is the whole JSON-RPC response object. A
/// database failure inside a tool is returned as the error it is.
caf::expected<nlohmann::json> answer_mcp(domain::service_context& context,
                                         const domain::principal& who, const mcp_message& message,
                                         const std::string& server_version);

} // namespace cxp::edge
