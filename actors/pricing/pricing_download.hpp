#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <caf/expected.hpp>

#include "actors/upstream/upstream_client.hpp"
#include "domain/pricing/pricing_feed.hpp"
#include "domain/pricing/pricing_import.hpp"
#include "persistence/db/database.hpp"

namespace cxp::actors {

/// Bounds of one feed download.
struct pricing_fetch_limits {
  /// The whole download, redirects included: resolve, connect, TLS, request and response.
  std::chrono::milliseconds timeout{std::chrono::seconds{30}};
  /// The largest body accepted; a longer one fails the download.
  size_t max_bytes = domain::max_pricing_feed_bytes;
  /// Redirects followed (301, 302, 303, 307, 308 with a Location).
  int max_redirects = 3;
};

/// Downloads `url` (http or https) with a GET through `client`, and answers the body of its
/// 200. Any other status, a body over `max_bytes`, a failed call or the timeout is
/// `errc::upstream_request_failed` whose context says which. Blocks the calling thread
/// (`call_and_wait`): call it from a worker thread, never an Asio thread or an event-based actor.
caf::expected<std::string> fetch_pricing_feed(upstream_client& client, const std::string& url,
                                              const pricing_fetch_limits& limits = {});

/// Downloads `url` and imports it (`domain::import_pricing_feed`): `imported` with the new
/// snapshot id, `unchanged` when that version is stored already, `rejected` with the
/// validation reason when the feed is malformed, `failed` with the reason when the download or
/// the database failed. Only `imported` writes anything. The outcome is also logged. Blocks
/// like `fetch_pricing_feed`: the pricing_import job runs it on a blocking worker.
domain::pricing_import_result import_pricing_from_url(persistence::database& db,
                                                      upstream_client& client,
                                                      const std::string& url,
                                                      const pricing_fetch_limits& limits = {});

} // namespace cxp::actors
