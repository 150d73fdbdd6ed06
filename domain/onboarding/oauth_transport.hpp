#pragma once

#include <string>
#include <string_view>

namespace cxp::domain::oauth {

/// One answer of the OAuth issuer; `failed` when none came (connect error, timeout).
struct http_answer {
  unsigned status = 0;
  std::string body;
  bool failed = false;
};

/// The seam between the onboarding services and the network: a blocking POST to the issuer.
/// The gateway's implementation (actors/onboarding/oauth_http_transport) runs on worker threads;
/// tests may substitute their own. Implementations never log bodies (they hold secrets).
class transport {
public:
  virtual ~transport() = default;
  virtual http_answer post(const std::string& url, std::string_view content_type,
                           const std::string& body) = 0;
};

} // namespace cxp::domain::oauth
