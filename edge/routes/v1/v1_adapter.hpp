#pragma once

#include <functional>
#include <memory>
#include <string>

#include "edge/routes/v1/stream_translator.hpp"
#include "edge/server/exchange.hpp"

namespace cxp::edge::v1 {

/// An exchange that `run_proxy_turn` answers in place of the client's: its request is the
/// client's with `upstream_body` (the normalized Codex request) as body, its route name labels
/// the request log and metrics. What the proxy answers is translated onto `client`:
/// - a committed SSE stream goes through `translator`, streamed to the client when
///   `client_streams`, else collected into one JSON reply when the upstream stream ends;
/// - a buffered 200 JSON answer is reshaped with `translator.from_response_object`;
/// - every error (gateway or upstream) becomes the OpenAI error envelope with its status kept
///   (429 stays 429, so SDKs raise their rate-limit error); provider text of 5xx answers is
///   replaced by a fixed message.
exchange_ptr make_translating_exchange(const exchange_ptr& client, std::string upstream_body,
                                       std::string route_name,
                                       std::shared_ptr<stream_translator> translator,
                                       bool client_streams);

/// An exchange whose whole answer (status, headers, body; a stream is collected) goes to
/// `done` instead of a client: for gateway calls chained inside one /v1 request (file upload
/// steps). `content_type` replaces the request's.
exchange_ptr make_capturing_exchange(const exchange_ptr& client, std::string upstream_body,
                                     std::string content_type, std::string route_name,
                                     std::function<void(http_response)> done);

/// The OpenAI error envelope for a non-200 answer of the proxy (its status kept; `Retry-After`
/// kept): OpenAI-shaped bodies keep a vetted message (4xx only), type, sanitized code and
/// param; Codex usage-limit bodies become `rate_limit_error`/`usage_limit_reached` with their
/// reset time; anything else gets a generic message for its status.
http_response openai_error_reply(const http_response& answer);

} // namespace cxp::edge::v1
