#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace cxp {

/// Asio threads as one single-threaded io_context each (the io_context-per-core model). Work
/// that stays on its io_context never crosses threads: a post from a handler goes to the
/// thread's private queue instead of waking another thread, which is what keeps a proxied
/// request's hops (client socket → upstream socket → client socket) off the scheduler.
/// Shared by the HTTP server and the upstream client so one request's work stays on one thread.
/// Each io_context runs on exactly one thread, so its executor already runs handlers one at a
/// time and in order, as a strand would: work bound to one needs no strand of its own.
class io_pool {
public:
  explicit io_pool(size_t threads);
  ~io_pool();
  io_pool(const io_pool&) = delete;
  io_pool& operator=(const io_pool&) = delete;

  /// Starts the threads (once; later calls do nothing).
  void start();

  /// Lets the threads end once their io_contexts run out of work, and joins them.
  void join();

  /// Stops the io_contexts at once (queued handlers are dropped) and joins the threads.
  void stop();

  size_t size() const { return contexts_.size(); }

  /// The io_context of thread `index` (below `size()`).
  boost::asio::io_context& at(size_t index) { return contexts_.at(index)->io; }

  /// The next io_context in round-robin order.
  boost::asio::io_context& next();

  /// The io_context the calling thread runs, or nullptr when it is not one of this pool's.
  boost::asio::io_context* local();

  /// `local()` when the caller is one of this pool's threads, else `next()`.
  boost::asio::io_context& local_or_next();

private:
  struct context {
    boost::asio::io_context io{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
      io.get_executor()};
  };
  void join_threads();

  /// Shared with the threads: a pool destroyed from one of its own threads (which is then
  /// detached) must not take the io_context out from under the handler still running on it.
  std::vector<std::shared_ptr<context>> contexts_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> started_{false};
};

} // namespace cxp
