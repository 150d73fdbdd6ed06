#pragma once

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include <boost/asio/any_io_executor.hpp>
#include <caf/expected.hpp>

#include "actors/runtime/gateway_metrics.hpp"
#include "actors/settings/settings_cache.hpp"

namespace cxp::edge {

class admission_control;

/// A running request's place in its route class; the place goes to the next waiter (or frees
/// up) when the last copy of the handle is dropped.
class admission_slot {
public:
  admission_slot(std::shared_ptr<admission_control> owner, domain::admission_class kind)
      : owner_(std::move(owner)),
        kind_(kind) {}
  admission_slot(const admission_slot&) = delete;
  admission_slot& operator=(const admission_slot&) = delete;
  ~admission_slot();

private:
  std::shared_ptr<admission_control> owner_;
  domain::admission_class kind_;
};

using admission_ticket = std::shared_ptr<admission_slot>;

/// The node's route-class bulkheads (codex-notes §3.1): per class at most `max_concurrency`
/// requests run; more wait in a FIFO queue of `queue_limit` for `queue_timeout`; beyond that,
/// or when the wait runs out, the request gets `server_is_overloaded` (503) having done no
/// work. Limits come from `gateway.bulkheads`: `configure` takes them from the newest settings
/// snapshot a request saw (cheap when unchanged). Shared by the Asio threads, hence the mutex;
/// a waiter's answer and timer run on the executor it was admitted from.
class admission_control : public std::enable_shared_from_this<admission_control> {
public:
  explicit admission_control(actors::gateway_metrics& metrics);

  void configure(const actors::settings_snapshot& settings);

  /// Calls `done` with a ticket when `kind` has room (at once, or later on `executor`), or with
  /// `server_is_overloaded`. Call it on `executor` (the waiter's timer lives there).
  void admit(domain::admission_class kind, const boost::asio::any_io_executor& executor,
             std::function<void(caf::expected<admission_ticket>)> done);

private:
  friend class admission_slot;
  struct waiter;
  /// One class's bulkhead and its metric children (kept, so no request looks labels up).
  struct class_lane {
    domain::bulkhead_limits limits;
    int64_t running = 0;
    std::deque<std::shared_ptr<waiter>> queue;
    metrics::gauge* running_gauge = nullptr;
    metrics::gauge* queued_gauge = nullptr;
    metrics::counter* accepted = nullptr;
    metrics::counter* enqueued = nullptr;
    metrics::counter* rejected = nullptr;
    metrics::counter* timed_out = nullptr;
  };

  void release(domain::admission_class kind);
  class_lane& lane_of(domain::admission_class kind) { return lanes_[static_cast<size_t>(kind)]; }
  static void publish(const class_lane& lane);

  std::mutex mutex_;
  actors::settings_snapshot configured_; ///< the snapshot the limits came from
  std::array<class_lane, domain::all_admission_classes.size()> lanes_;
};

} // namespace cxp::edge
