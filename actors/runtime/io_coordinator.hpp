#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "common/io_pool.hpp"

namespace cxp::actors {

/// The node's CAF scheduler. While attached to an io_pool, actors run on its Asio threads: an
/// actor scheduled from one of them (a request's lease, its attempt report, its log row, or an
/// actor's message to another) runs on that same thread after the handlers already queued
/// there, so no hop between the request path and the actors wakes a thread. Scheduled from any
/// other thread (the actor clock, a detached database worker), it goes to the pool's threads in
/// turn. Before `attach` and after `detach` the actors run on the coordinator's own thread, as on
/// CAF's sharing scheduler with one worker: actors spawned before the Asio threads start, and
/// those still ending after they stop, run all the same.
///
/// As on any CAF scheduler thread, a scheduled actor must never block: blocking work belongs to
/// detached actors (the database and job workers).
class io_coordinator final : public caf::scheduler::abstract_coordinator {
public:
  explicit io_coordinator(caf::actor_system& system);
  ~io_coordinator() override;

  /// Installs the coordinator as the scheduler of the systems built from `config`, and caps the
  /// messages an actor handles per turn so that it cannot hold an Asio thread for long.
  static void install(caf::actor_system_config& config);

  /// The coordinator of a system built from a configuration it was installed in.
  static io_coordinator& of(caf::actor_system& system);

  /// Runs actors on `io`'s threads from now on; `io` must stay up until `detach`.
  void attach(io_pool& io);

  /// Runs actors on the coordinator's own thread from now on, including those already queued for
  /// an Asio thread. Call it before stopping the io_pool it was attached to.
  void detach();

  void enqueue(caf::resumable* job) override;
  caf::detail::thread_safe_actor_clock& clock() noexcept override;

protected:
  void start() override;
  void stop() override;

private:
  /// The actors queued for one thread: an Asio thread's while attached, else the own thread's.
  class lane;

  lane& lane_for_caller();

  std::unique_ptr<lane> own_;
  std::vector<std::unique_ptr<lane>> io_lanes_;
  std::atomic<bool> attached_{false};
  std::atomic<size_t> next_lane_{0};
  io_pool* io_ = nullptr;
  std::thread own_thread_;
  std::thread clock_thread_;
  caf::detail::thread_safe_actor_clock clock_;

  friend class lane;
};

} // namespace cxp::actors
