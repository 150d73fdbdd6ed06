#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace cxp::test {

struct http_result {
  int status = 0;
  std::map<std::string, std::string> headers; ///< lower-case names; repeated headers joined by "\n"
  std::string body;
};

/// A blocking HTTP/1.1 request to 127.0.0.1:`port` for tests (Beast, one connection per call).
/// Throws on connection failure so a test reports it.
/// A streaming Codex Responses request body with one user message (`text`) for `model`.
nlohmann::json user_turn_body(const std::string& text, const std::string& model);

http_result http_request(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = {},
                         const std::map<std::string, std::string>& headers = {});

inline http_result http_get(uint16_t port, const std::string& target,
                            const std::map<std::string, std::string>& headers = {}) {
  return http_request(port, "GET", target, {}, headers);
}

} // namespace cxp::test
