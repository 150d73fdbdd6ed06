#include "edge/server/admission.hpp"

#include <string>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/errc.hpp"

namespace cxp::edge {

namespace net = boost::asio;
using domain::admission_class;

struct admission_control::waiter {
  net::any_io_executor executor;
  std::function<void(caf::expected<admission_ticket>)> done;
  net::steady_timer timer;
  bool settled = false; ///< admitted or timed out (under the mutex)
};

admission_slot::~admission_slot() {
  owner_->release(kind_);
}

admission_control::admission_control(actors::gateway_metrics& metrics) {
  const auto defaults = domain::instance_settings{};
  for (auto kind : domain::all_admission_classes) {
    auto& lane = lane_of(kind);
    const auto route_class = std::string{to_string(kind)};
    auto outcome = [&](const char* name) {
      return &metrics.admissions.add({{"route_class", route_class}, {"outcome", name}});
    };
    lane.limits = defaults.gateway().bulkhead(kind);
    lane.running_gauge = &metrics.admission_running.add({{"route_class", route_class}});
    lane.queued_gauge = &metrics.admission_queued.add({{"route_class", route_class}});
    lane.accepted = outcome("accepted");
    lane.enqueued = outcome("enqueued");
    lane.rejected = outcome("rejected");
    lane.timed_out = outcome("timeout");
    publish(lane);
  }
}

void admission_control::configure(const actors::settings_snapshot& settings) {
  std::lock_guard lock{mutex_};
  if (!settings || settings == configured_) {
    return;
  }
  configured_ = settings;
  for (auto kind : domain::all_admission_classes) {
    lane_of(kind).limits = settings->gateway().bulkhead(kind);
  }
}

void admission_control::admit(domain::admission_class kind, const net::any_io_executor& executor,
                              std::function<void(caf::expected<admission_ticket>)> done) {
  std::unique_lock lock{mutex_};
  auto& lane = lane_of(kind);
  if (lane.running < lane.limits.max_concurrency) {
    ++lane.running;
    publish(lane);
    lock.unlock();
    lane.accepted->increment();
    return done(std::make_shared<admission_slot>(shared_from_this(), kind));
  }
  if (static_cast<int64_t>(lane.queue.size()) >= lane.limits.queue_limit) {
    lock.unlock();
    lane.rejected->increment();
    return done(make_error(errc::server_is_overloaded, "bulkhead_rejected"));
  }
  auto queued =
    std::make_shared<waiter>(waiter{executor, std::move(done), net::steady_timer{executor}});
  lane.queue.push_back(queued);
  publish(lane);
  queued->timer.expires_after(lane.limits.queue_timeout);
  lock.unlock();
  lane.enqueued->increment();
  queued->timer.async_wait([self = shared_from_this(), queued, kind](boost::system::error_code) {
    {
      std::lock_guard guard{self->mutex_};
      if (queued->settled) {
        return; // admitted meanwhile: the timer was only cancelled
      }
      queued->settled = true;
      auto& waiting = self->lane_of(kind).queue;
      waiting.erase(std::find(waiting.begin(), waiting.end(), queued));
      publish(self->lane_of(kind));
    }
    self->lane_of(kind).timed_out->increment();
    queued->done(make_error(errc::server_is_overloaded, "bulkhead_queue_timeout"));
  });
}

void admission_control::release(domain::admission_class kind) {
  std::shared_ptr<waiter> next;
  {
    std::lock_guard lock{mutex_};
    auto& lane = lane_of(kind);
    // Above a limit that shrank, the place just frees up; otherwise it passes to the first
    // waiter still waiting.
    while (lane.running <= lane.limits.max_concurrency && !lane.queue.empty() && !next) {
      auto front = std::move(lane.queue.front());
      lane.queue.pop_front();
      if (!front->settled) {
        front->settled = true;
        next = std::move(front);
      }
    }
    if (!next) {
      --lane.running;
    }
    publish(lane);
  }
  if (next) {
    // The place passes straight to the waiter, on its own executor.
    net::post(next->executor, [self = shared_from_this(), next, kind] {
      next->timer.cancel();
      next->done(std::make_shared<admission_slot>(self, kind));
    });
  }
}

void admission_control::publish(const class_lane& lane) {
  lane.running_gauge->set(static_cast<double>(lane.running));
  lane.queued_gauge->set(static_cast<double>(lane.queue.size()));
}

} // namespace cxp::edge
