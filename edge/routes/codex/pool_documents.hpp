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

/// The pooled quota of the pool's accounts in `view` (README "Pooled quota"), tightened by the
/// key's cap windows the view carries.
domain::pooled_quota pool_quota_of(const actors::pool_view& view, time_point now);

/// `pool_quota_of` in the Codex `/wham/usage` shape (codex-protocol §6.4; integers only).
nlohmann::json pool_usage(const actors::pool_view& view, time_point now);

} // namespace cxp::edge
