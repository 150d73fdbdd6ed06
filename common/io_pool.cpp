#include "common/io_pool.hpp"

#include <algorithm>

namespace cxp {

namespace {

/// The pool and io_context the current thread runs, if any.
thread_local const io_pool* current_pool = nullptr;
thread_local boost::asio::io_context* current_context = nullptr;

} // namespace

io_pool::io_pool(size_t threads) {
  contexts_.reserve(std::max<size_t>(threads, 1));
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    contexts_.push_back(std::make_shared<context>());
  }
}

io_pool::~io_pool() {
  stop();
}

void io_pool::start() {
  if (started_.exchange(true)) {
    return;
  }
  for (auto& ctx : contexts_) {
    threads_.emplace_back([this, ctx] {
      auto* io = &ctx->io;
      current_pool = this;
      current_context = io;
      for (;;) {
        try {
          io->run();
          return;
        } catch (...) {
          // A throwing handler must not take the thread, and every connection on it, down.
        }
      }
    });
  }
}

void io_pool::join() {
  for (auto& ctx : contexts_) {
    ctx->work.reset();
  }
  join_threads();
}

void io_pool::stop() {
  for (auto& ctx : contexts_) {
    ctx->work.reset();
    ctx->io.stop();
  }
  join_threads();
}

void io_pool::join_threads() {
  const auto self_id = std::this_thread::get_id();
  for (auto& thread : threads_) {
    if (!thread.joinable()) {
      continue;
    }
    // Joining itself would deadlock; the thread ends on its own once its handler returns.
    thread.get_id() == self_id ? thread.detach() : thread.join();
  }
  threads_.clear();
}

boost::asio::io_context& io_pool::next() {
  return contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()]->io;
}

boost::asio::io_context* io_pool::local() {
  return current_pool == this ? current_context : nullptr;
}

boost::asio::io_context& io_pool::local_or_next() {
  auto* mine = local();
  return mine != nullptr ? *mine : next();
}

} // namespace cxp
