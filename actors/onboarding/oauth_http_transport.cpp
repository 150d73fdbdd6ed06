#include "actors/onboarding/oauth_http_transport.hpp"

namespace cxp::actors {

namespace {

/// An issuer answer larger than this is no answer we can use (real ones are a few KiB).
constexpr uint64_t max_answer_bytes = 256u * 1024u;

} // namespace

domain::oauth::http_answer oauth_http_transport::post(const std::string& url,
                                                      std::string_view content_type,
                                                      const std::string& body) {
  upstream_request request;
  request.method = boost::beast::http::verb::post;
  request.url = url;
  request.headers = {{"content-type", std::string{content_type}}, {"accept", "application/json"}};
  request.body = body;
  request.timeouts.connect = timeout_;
  request.timeouts.first_byte = timeout_;
  request.timeouts.idle = timeout_;
  request.max_body_bytes = max_answer_bytes;
  auto result =
    call_and_wait(*client_, std::move(request), std::chrono::steady_clock::now() + timeout_);
  domain::oauth::http_answer answer;
  answer.failed = result.failure.has_value();
  answer.status = result.reply.head.status;
  answer.body = std::move(result.reply.body);
  return answer;
}

} // namespace cxp::actors
