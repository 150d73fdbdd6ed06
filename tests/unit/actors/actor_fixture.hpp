#pragma once

#include <algorithm>
#include <memory>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"

namespace cxp::test {

/// An actor system on CAF's test coordinator: nothing runs until the test steps it with
/// `sched.run()`, and delayed messages fire only when it moves the clock (`sched.advance_time`),
/// so actor protocol tests are deterministic and never sleep.
struct actor_fixture {
  struct config_type : caf::actor_system_config {
    config_type() {
      set("scheduler.policy", caf::atom("testing"));
      actors::add_message_types(*this);
    }
  };

  config_type config;
  caf::actor_system system{config};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());

  /// Moves the clock by `span` and runs everything that became due.
  void elapse(caf::timespan span) {
    sched.advance_time(span);
    sched.run();
  }

  /// True once `handle`'s actor terminated (checked after `sched.run()`).
  template <class Handle>
  static bool has_quit(const Handle& handle) {
    return caf::actor_cast<caf::abstract_actor*>(handle)->getf(
      caf::abstract_actor::is_terminated_flag);
  }

  /// Ends the actors of `handles` (an exit each) and runs what follows.
  template <class... Handles>
  void stop(const Handles&... handles) {
    (caf::anon_send_exit(handles, caf::exit_reason::user_shutdown), ...);
    sched.run();
  }

  /// Sends `xs...` to `handle` as a request from a fresh actor and runs what is due. The answer
  /// (or the error) lands in the returned slot, which stays empty while nobody answered.
  template <class Reply, class Handle, class... Ts>
  std::shared_ptr<std::optional<caf::expected<Reply>>> pending_request(const Handle& handle,
                                                                       Ts... xs) {
    auto out = std::make_shared<std::optional<caf::expected<Reply>>>();
    system.spawn([out, handle, xs...](caf::event_based_actor* self) {
      self->request(handle, caf::infinite, xs...)
        .then([out](Reply& reply) { *out = std::move(reply); },
              [out](caf::error& error) { *out = std::move(error); });
    });
    sched.run();
    return out;
  }

  /// The answer (or error) to a request that `handle` answers at once.
  template <class Reply, class Handle, class... Ts>
  caf::expected<Reply> request_of(const Handle& handle, Ts... xs) {
    auto out = pending_request<Reply>(handle, std::move(xs)...);
    REQUIRE(out->has_value());
    return std::move(**out);
  }

  /// The message `handle`'s actor processes next, when it is a `T` (nothing runs until the test
  /// steps the scheduler, so a message sent to an actor waits in its mailbox until then).
  template <class T, class Handle>
  std::optional<T> next_message(const Handle& handle) {
    auto* actor =
      dynamic_cast<caf::scheduled_actor*>(caf::actor_cast<caf::abstract_actor*>(handle));
    // An actor with mail waits among the jobs. An empty mailbox is never peeked: that would take
    // its blocked mark, and the next message would then not schedule the actor.
    if (std::find(sched.jobs.begin(), sched.jobs.end(), static_cast<caf::resumable*>(actor))
        == sched.jobs.end()) {
      return std::nullopt;
    }
    auto* next = actor->mailbox().peek();
    if (next == nullptr || !next->content().match_elements<T>()) {
      return std::nullopt;
    }
    return next->content().get_as<T>(0);
  }
};

} // namespace cxp::test
