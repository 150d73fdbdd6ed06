#include "actors/pricing/pricing_download.hpp"

#include <algorithm>

#include "common/errc.hpp"
#include "common/log.hpp"

namespace cxp::actors {

namespace {

using steady = std::chrono::steady_clock;

caf::error fetch_failed(std::string why) {
  return make_error(errc::upstream_request_failed, std::move(why));
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// Where a redirect from `from` (an http(s) URL the client accepted) to `location` goes; empty
/// when `location` is neither absolute nor an absolute path.
std::string redirect_target(const std::string& from, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
    return location;
  }
  if (location.rfind('/', 0) != 0 || location.rfind("//", 0) == 0) {
    return {};
  }
  const auto authority = from.find("://") + 3;
  return from.substr(0, from.find_first_of("/?#", authority)) + location;
}

} // namespace

caf::expected<std::string> fetch_pricing_feed(upstream_client& client, const std::string& url,
                                              const pricing_fetch_limits& limits) {
  const auto deadline = steady::now() + limits.timeout;
  std::string current = url;
  for (int redirects = 0;; ++redirects) {
    upstream_request request;
    request.method = boost::beast::http::verb::get;
    request.url = current;
    request.headers = {{"user-agent", "codex-pooler pricing import"},
                       {"accept", "application/json"},
                       {"accept-encoding", "identity"}};
    request.max_body_bytes = limits.max_bytes;
    // No single phase may outlast what is left; the deadline bounds the phases together.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
      std::max(deadline - steady::now(), steady::duration::zero()));
    request.timeouts = {left, left, left};
    auto answer = call_and_wait(client, std::move(request), deadline);
    if (answer.failure == upstream_failure::bad_url) {
      return fetch_failed("not an absolute http or https URL");
    }
    if (answer.failure == upstream_failure::body_too_large) {
      return fetch_failed("the feed is larger than " + std::to_string(limits.max_bytes) + " bytes");
    }
    if (answer.failure && steady::now() >= deadline) {
      return fetch_failed("timed out after " + std::to_string(limits.timeout.count()) + " ms");
    }
    if (answer.failure) {
      return fetch_failed("the request failed: " + std::string{to_string(*answer.failure)});
    }
    const auto status = answer.reply.head.status;
    if (is_redirect(status)) {
      if (redirects >= limits.max_redirects) {
        return fetch_failed("more than " + std::to_string(limits.max_redirects) + " redirects");
      }
      current = redirect_target(current, std::string{answer.reply.head.header("location")});
      if (current.empty()) {
        return fetch_failed("a redirect without a usable Location");
      }
      continue;
    }
    if (status != 200) {
      return fetch_failed("the feed URL answered HTTP " + std::to_string(status));
    }
    return std::move(answer.reply.body);
  }
}

domain::pricing_import_result import_pricing_from_url(persistence::database& db,
                                                      upstream_client& client,
                                                      const std::string& url,
                                                      const pricing_fetch_limits& limits) {
  auto text = fetch_pricing_feed(client, url, limits);
  if (!text) {
    domain::pricing_import_result out;
    out.outcome = domain::pricing_import_outcome::failed;
    out.reason = "download failed: " + context_of(text.error());
    log::warn("pricing", "pricing feed download failed",
              {{"source_url", url.substr(0, url.find_first_of("?#"))}, {"reason", out.reason}});
    return out;
  }
  return domain::import_pricing_feed(db, *text, url);
}

} // namespace cxp::actors
