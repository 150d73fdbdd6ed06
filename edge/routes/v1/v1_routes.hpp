#pragma once

#include "edge/routes/codex/proxy_turn.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// The OpenAI-compatible surface for Pool API keys, a translation layer onto the Codex
/// Responses path (`run_proxy_turn`: same routing, failover, accounting):
/// - `GET /v1/models`; `POST /v1/responses`; `POST /v1/chat/completions` (also
///   `/backend-api/codex/v1/chat/completions`); `GET /v1/usage`;
/// - `POST /v1/files` (multipart; bytes go to the upstream upload URL, never stored),
///   `GET /v1/files`, `GET /v1/files/:id`; `POST /v1/audio/transcriptions`;
///   `POST /v1/images/generations`, `POST /v1/images/edits`;
/// - the native `POST /backend-api/files`, `/backend-api/files/:id/uploaded`,
///   `/backend-api/transcribe` and `/backend-api/codex/images/{generations,edits}`;
/// - a fixed list of OpenAI endpoints we do not serve, answered `unsupported_endpoint`.
/// Every /v1 route is refused with `403 v1_compatibility_disabled` when the key's pool has the
/// switch off; image routes with `403 image_generation_disabled` when images are off.
void add_v1_routes(route_table& routes, codex_runtime& runtime);

} // namespace cxp::edge
