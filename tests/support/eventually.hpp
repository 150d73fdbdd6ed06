#pragma once

#include <chrono>
#include <thread>

namespace cxp::test {

/// Polls `done` every `interval` until it holds or `limit` has passed, then answers it once
/// more: the gateway works asynchronously and tests wait for conditions, never for fixed times.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds{15},
                std::chrono::milliseconds interval = std::chrono::milliseconds{50}) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(interval);
  }
  return done();
}

} // namespace cxp::test
