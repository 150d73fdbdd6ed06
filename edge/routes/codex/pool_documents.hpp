#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/pool/routing_messages.hpp"

namespace cxp::edge {

/// The pool's model catalog in the Codex `/models` shape: `{"models": [...]}`, the union of its
/// routable accounts' entries by slug (first account in id order wins), sorted by priority then
/// slug, restricted to `allowed_models` when the key has that policy.
nlohmann::json pool_catalog(const actors::pool_view& view,
                            const std::optional<std::vector<std::string>>& allowed_models);

/// The pool's quota in the Codex `/wham/usage` shape (codex-protocol §6.4; integers only): per
/// window the mean used percent over routable accounts with fresh evidence and the earliest
/// reset; `limit_reached` when every routable account is exhausted (or none is routable).
nlohmann::json pool_usage(const actors::pool_view& view, time_point now);

} // namespace cxp::edge
