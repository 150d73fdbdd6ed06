#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "edge/routes/v1/v1_error.hpp"

namespace cxp::edge::v1 {

/// A chat.completions request rewritten as a public Responses request.
struct chat_translation {
  nlohmann::json responses; ///< a public Responses body (normalize it before sending upstream)
  bool stream = false;
  bool include_usage = false; ///< `stream_options.include_usage`
};

/// Translates a `POST /v1/chat/completions` body (notes §5.2): messages of every role (text,
/// image, file and audio parts; assistant tool calls; tool results) become Responses input
/// items, function/custom tools and `tool_choice` are flattened, `response_format` and
/// `verbosity` become `text`, `reasoning_effort` becomes `reasoning.effort`,
/// `max_completion_tokens`/`max_tokens` become `max_output_tokens`. Parameters the Codex backend
/// cannot honour (`n`≠1, `logprobs`, `stop`, `seed`, penalties, `audio`, …) and unknown ones are
/// `unsupported_parameter`; an empty or malformed `messages` is `invalid_request`.
std::optional<v1_error> chat_to_responses(const nlohmann::json& chat, chat_translation& out);

} // namespace cxp::edge::v1
