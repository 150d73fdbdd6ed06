#include "tests/support/raw_socket.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>
#include <sys/socket.h>

namespace cxp::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct raw_socket::state {
  net::io_context io;
  tcp::socket socket{io};
  std::string pending;
  bool eof = false;

  /// Reads what is available within `wait` into `pending`; false on timeout.
  bool read_some(std::chrono::milliseconds wait) {
    pollfd fd{socket.native_handle(), POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(wait.count())) <= 0) {
      return false;
    }
    char buffer[64 * 1024];
    const auto got = ::recv(socket.native_handle(), buffer, sizeof buffer, 0);
    if (got <= 0) {
      eof = true;
      return true;
    }
    pending.append(buffer, static_cast<size_t>(got));
    return true;
  }
};

raw_socket::raw_socket(uint16_t port) : state_(std::make_unique<state>()) {
  state_->socket.connect({net::ip::make_address("127.0.0.1"), port});
}

raw_socket::~raw_socket() {
  boost::system::error_code ignored;
  state_->socket.close(ignored);
}

bool raw_socket::write(const std::string& bytes) {
  boost::system::error_code ec;
  net::write(state_->socket, net::buffer(bytes), ec);
  return !ec;
}

std::string raw_socket::read_until_closed(std::chrono::milliseconds wait) {
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (!state_->eof && std::chrono::steady_clock::now() < give_up) {
    state_->read_some(std::chrono::duration_cast<std::chrono::milliseconds>(
      give_up - std::chrono::steady_clock::now()));
  }
  return std::exchange(state_->pending, {});
}

std::string raw_socket::read_response(std::chrono::milliseconds wait) {
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (!state_->eof && std::chrono::steady_clock::now() < give_up) {
    auto head_end = state_->pending.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      auto at = state_->pending.find("Content-Length: ");
      if (at == std::string::npos) {
        at = state_->pending.find("content-length: ");
      }
      if (at != std::string::npos && at < head_end) {
        length = std::stoul(state_->pending.substr(at + 16));
      }
      if (state_->pending.size() >= head_end + 4 + length) {
        auto response = state_->pending.substr(0, head_end + 4 + length);
        state_->pending.erase(0, head_end + 4 + length);
        return response;
      }
    }
    state_->read_some(std::chrono::duration_cast<std::chrono::milliseconds>(
      give_up - std::chrono::steady_clock::now()));
  }
  return std::exchange(state_->pending, {});
}

bool raw_socket::closed_by_peer(std::chrono::milliseconds wait) {
  read_until_closed(wait);
  return state_->eof;
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) {
    return 0;
  }
  return std::stoi(response.substr(9, 3));
}

} // namespace cxp::test
