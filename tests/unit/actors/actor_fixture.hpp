#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

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
};

} // namespace cxp::test
