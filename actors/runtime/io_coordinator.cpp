#include "actors/runtime/io_coordinator.hpp"

#include <boost/asio/post.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>

namespace cxp::actors {

namespace {

/// Messages an actor handles per turn before the thread's other work (socket handlers, other
/// actors) gets a go; CAF's default is unbounded.
constexpr size_t messages_per_turn = 64;

} // namespace

class io_coordinator::lane final : public caf::execution_unit {
public:
  /// An Asio thread's lane when `io` is given, else the coordinator's own thread's.
  lane(io_coordinator& owner, boost::asio::io_context* io)
      : caf::execution_unit(&owner.system()),
        owner_(owner),
        io_(io) {}

  boost::asio::io_context* io() const { return io_; }

  /// Queues `job` (holding a reference to it) to run on this lane's thread; on the own thread
  /// instead once this Asio lane is retired.
  void exec_later(caf::resumable* job) override {
    if (io_ != nullptr) {
      std::lock_guard guard{mutex_};
      if (!retired_) {
        jobs_.push_back(job);
        if (!drain_posted_) {
          drain_posted_ = true;
          boost::asio::post(*io_, [this] { drain(); });
        }
        return;
      }
    }
    owner_.own_->push(job);
  }

  /// Retires this Asio lane: what it still holds goes to the own thread, and so will what comes.
  void retire() {
    std::deque<caf::resumable*> left;
    {
      std::lock_guard guard{mutex_};
      retired_ = true;
      left.swap(jobs_);
    }
    for (auto* job : left) {
      owner_.own_->push(job);
    }
  }

  /// The own thread's loop: runs jobs until `finish`, then the ones left.
  void run_until_finished() {
    for (;;) {
      std::unique_lock guard{mutex_};
      ready_.wait(guard, [this] { return finished_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;
      }
      auto* job = jobs_.front();
      jobs_.pop_front();
      guard.unlock();
      run(job);
    }
  }

  void finish() {
    std::lock_guard guard{mutex_};
    finished_ = true;
    ready_.notify_one();
  }

  /// Releases what was never run (the system is going away).
  void discard() {
    std::lock_guard guard{mutex_};
    for (auto* job : jobs_) {
      caf::scheduler::abstract_coordinator::cleanup_and_release(job);
    }
    jobs_.clear();
  }

private:
  void push(caf::resumable* job) {
    std::lock_guard guard{mutex_};
    jobs_.push_back(job);
    ready_.notify_one();
  }

  /// An Asio lane's posted turn: the jobs queued so far, each for one turn.
  void drain() {
    std::deque<caf::resumable*> batch;
    {
      std::lock_guard guard{mutex_};
      batch.swap(jobs_);
      drain_posted_ = false;
    }
    for (auto* job : batch) {
      run(job);
    }
  }

  void run(caf::resumable* job) {
    switch (job->resume(this, owner_.max_throughput())) {
    case caf::resumable::resume_later:
      exec_later(job); // keeps its reference; queued behind what arrived meanwhile
      break;
    case caf::resumable::done:
    case caf::resumable::awaiting_message:
    case caf::resumable::shutdown_execution_unit:
      intrusive_ptr_release(job);
      break;
    }
  }

  io_coordinator& owner_;
  boost::asio::io_context* const io_;
  std::mutex mutex_;
  std::condition_variable ready_; // the own thread's
  std::deque<caf::resumable*> jobs_;
  bool drain_posted_ = false;
  bool retired_ = false;
  bool finished_ = false;
};

io_coordinator::io_coordinator(caf::actor_system& system)
    : caf::scheduler::abstract_coordinator(system),
      own_(std::make_unique<lane>(*this, nullptr)) {}

io_coordinator::~io_coordinator() = default;

void io_coordinator::install(caf::actor_system_config& config) {
  config.module_factories.push_back([](caf::actor_system& system) -> caf::actor_system::module* {
    return new io_coordinator(system);
  });
  config.set("scheduler.max-throughput", messages_per_turn);
}

io_coordinator& io_coordinator::of(caf::actor_system& system) {
  return dynamic_cast<io_coordinator&>(system.scheduler());
}

void io_coordinator::attach(io_pool& io) {
  for (size_t i = 0; i < io.size(); ++i) {
    io_lanes_.push_back(std::make_unique<lane>(*this, &io.at(i)));
  }
  io_ = &io;
  attached_.store(true, std::memory_order_release);
}

void io_coordinator::detach() {
  attached_.store(false, std::memory_order_release);
  for (auto& io_lane : io_lanes_) {
    io_lane->retire();
  }
}

io_coordinator::lane& io_coordinator::lane_for_caller() {
  if (auto* local = io_->local()) {
    for (auto& io_lane : io_lanes_) {
      if (io_lane->io() == local) {
        return *io_lane;
      }
    }
  }
  return *io_lanes_[next_lane_.fetch_add(1, std::memory_order_relaxed) % io_lanes_.size()];
}

void io_coordinator::enqueue(caf::resumable* job) {
  if (attached_.load(std::memory_order_acquire)) {
    lane_for_caller().exec_later(job);
  } else {
    own_->exec_later(job);
  }
}

caf::detail::thread_safe_actor_clock& io_coordinator::clock() noexcept {
  return clock_;
}

void io_coordinator::start() {
  own_thread_ = std::thread{[this] {
    caf::detail::set_thread_name("caf.actors");
    system().thread_started();
    own_->run_until_finished();
    system().thread_terminates();
  }};
  clock_thread_ = std::thread{[this] {
    caf::detail::set_thread_name("caf.clock");
    system().thread_started();
    clock_.run_dispatch_loop();
    system().thread_terminates();
  }};
  abstract_coordinator::start();
}

void io_coordinator::stop() {
  stop_actors();
  detach();
  own_->finish();
  own_thread_.join();
  own_->discard();
  clock_.cancel_dispatch_loop();
  clock_thread_.join();
}

} // namespace cxp::actors
