#pragma once

#include <chrono>
#include <memory>

#include "actors/upstream/upstream_client.hpp"
#include "domain/onboarding/oauth_transport.hpp"

namespace cxp::actors {

/// The OAuth issuer over the shared upstream client: one blocking POST per call
/// (`call_and_wait`), no retry (an authorization code is single use). For worker threads only
/// (the onboarding pool's detached workers, the CLI), never an Asio thread or an event-based
/// actor. Bodies are never logged.
class oauth_http_transport : public domain::oauth::transport {
public:
  /// `timeout` bounds each call; the admin routes keep it under their own reply timeout.
  oauth_http_transport(std::shared_ptr<upstream_client> client, std::chrono::milliseconds timeout)
      : client_(std::move(client)),
        timeout_(timeout) {}

  domain::oauth::http_answer post(const std::string& url, std::string_view content_type,
                                  const std::string& body) override;

private:
  std::shared_ptr<upstream_client> client_;
  std::chrono::milliseconds timeout_;
};

} // namespace cxp::actors
