#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cxp::test {

/// A plain TCP connection to 127.0.0.1 for tests that must send bytes no HTTP client would
/// (broken framing, withheld bodies, idle connections). Blocking, with a read deadline.
class raw_socket {
public:
  explicit raw_socket(uint16_t port);
  ~raw_socket();
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  /// Writes `bytes`; false when the peer has closed.
  bool write(const std::string& bytes);

  /// Everything the peer sends until it closes the connection or `wait` passes.
  std::string read_until_closed(std::chrono::milliseconds wait = std::chrono::seconds{5});

  /// The first response (head and Content-Length body) the peer sends within `wait`.
  std::string read_response(std::chrono::milliseconds wait = std::chrono::seconds{5});

  /// Whether the peer closed the connection (a read returned end of stream) within `wait`.
  bool closed_by_peer(std::chrono::milliseconds wait = std::chrono::seconds{5});

private:
  struct state;
  std::unique_ptr<state> state_;
};

/// The status code of a raw HTTP response ("HTTP/1.1 413 …"), or 0.
int status_of(const std::string& response);

} // namespace cxp::test
