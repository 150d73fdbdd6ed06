#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "edge/routes/v1/v1_error.hpp"

namespace cxp::edge::v1 {

/// A public Responses request made fit for the Codex backend.
struct normalized_request {
  nlohmann::json body;        ///< what goes upstream: always `stream:true`, `store:false`
  bool client_stream = false; ///< whether the client asked for SSE
};

/// Checks a public `POST /v1/responses` body against the field matrix (notes §5.1, §5.3) and
/// normalizes it for the Codex backend (§5.4): unknown fields and fields the backend cannot honour
/// (`background`, `conversation`, `prompt`, `context_management`, `previous_response_id`, …) are
/// `unsupported_parameter`; `mcp` tools are `invalid_request`; `max_output_tokens`,
/// `temperature`, `top_p`, `safety_identifier`, `prompt_cache_retention`, `truncation`, `user`
/// and `stream_options` are dropped; a string `input` becomes one user message; shorthand
/// messages get their `type` and typed content parts; system/developer message text is lifted
/// into `instructions` (default ""); `service_tier` `fast` becomes `priority` and `auto`/`default`
/// is omitted; a `reasoning` object and exactly one `reasoning.encrypted_content` in `include`
/// are always present. Writes the result into `out` and returns nullopt, or the client error.
std::optional<v1_error> normalize_responses_request(const nlohmann::json& client,
                                                    normalized_request& out);

} // namespace cxp::edge::v1
