#pragma once

#include "edge/routes/admin_api/admin_http.hpp"
#include "edge/server/route_table.hpp"

namespace cxp::edge {

/// `GET /admin/api/quota-windows?pool_id=` (any operator): the latest quota evidence of every
/// upstream account the caller may see (an instance admin: the accounts of its pools), for the
/// dashboard's usage bars and reset countdowns. With `pool_id`, that pool's accounts only. See
/// docs/admin-api.md, Quota windows.
void add_quota_routes(route_table& routes, const admin_runtime& runtime);

} // namespace cxp::edge
