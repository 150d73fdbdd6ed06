#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cxp {

/// The parts of something that starts in order: each started part leaves how to stop it, and
/// `stop_all` stops them last-started first, so nothing outlives what it depends on. Used by
/// the node for its actors, threads and server.
class stop_stack {
public:
  stop_stack() = default;
  stop_stack(const stop_stack&) = delete;
  stop_stack& operator=(const stop_stack&) = delete;
  ~stop_stack() { stop_all(); }

  /// Records that `name` started; `stop` runs once, when the stack unwinds.
  void started(std::string name, std::function<void()> stop) {
    parts_.emplace_back(std::move(name), std::move(stop));
  }

  /// Stops every started part in reverse order; `on_stop` (if set) hears each name first.
  void stop_all(const std::function<void(const std::string&)>& on_stop = {}) {
    while (!parts_.empty()) {
      auto [name, stop] = std::move(parts_.back());
      parts_.pop_back();
      if (on_stop) {
        on_stop(name);
      }
      stop();
    }
  }

  size_t size() const { return parts_.size(); }

private:
  std::vector<std::pair<std::string, std::function<void()>>> parts_;
};

} // namespace cxp
