#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace cxp::edge::v1 {

/// `GET /v1/models` from the pool's Codex catalog (`{"models":[…]}`, see `pool_catalog`):
/// `{"object":"list","data":[{id, object:"model", created, owned_by:"codex-pooler",
/// permission:[], input_modalities, display_name, supports_streaming, supports_tools,
/// supports_reasoning, context_length?}]}` where `context_length` is the raw context window ×
/// `effective_context_window_percent` (95 when absent) / 100 (notes §5.5).
nlohmann::json models_document(const nlohmann::json& catalog, int64_t created);

} // namespace cxp::edge::v1
