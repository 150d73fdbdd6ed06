#pragma once

#include <chrono>
#include <functional>
#include <tuple>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/send.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/runtime/registered_actor.hpp"

namespace cxp::edge {

struct bridge_job;

/// The bridge's interface: `bridge_job`, run inside it.
using actor_bridge = caf::typed_actor<caf::reacts_to<bridge_job>>;

/// A question to run inside the bridge actor: it issues the request and handles the answer.
struct bridge_job {
  std::function<void(actor_bridge::pointer)> run;
};

/// The node's bridge actor (spawned hidden on first use, so it never holds up shutdown, and again
/// should it have died, so no route ever waits on a dead one): it runs `bridge_job`s, which lets
/// Asio code ask actors without spawning an actor per question; every spawned actor costs the
/// actor clock thread a wake-up when it terminates.
actor_bridge bridge_of(caf::actor_system& system);

/// Logs and counts a bridge callback that threw.
void report_bridge_failure(const std::exception& failure);

/// Ends the bridge actor when it goes out of scope. Declare it right after the actor system:
/// the bridge is a hidden actor in its registry.
class bridge_scope : public actors::registered_actors_scope {
public:
  explicit bridge_scope(caf::actor_system& system);
};

/// Calls a bridge callback. A callback that throws (a handler bug) is called once more with
/// `internal_error`, so its request is answered (a second answer is ignored) and the bridge
/// actor, which every route shares, keeps running.
template <class Reply>
void deliver(const std::function<void(caf::expected<Reply>)>& on_reply,
             caf::expected<Reply> outcome) {
  try {
    on_reply(std::move(outcome));
  } catch (const std::exception& failure) {
    report_bridge_failure(failure);
    try {
      on_reply(make_error(errc::internal_error, "bridge callback failed"));
    } catch (const std::exception& again) {
      report_bridge_failure(again);
    }
  }
}

/// The one way from Asio code to an actor: the bridge actor sends `xs...` to `target` and calls
/// `on_reply` with the typed answer or the error (a timeout included). The callback runs in the
/// bridge actor, on whichever thread the scheduler runs it (in the node, usually the calling Asio
/// thread: `actors::io_coordinator`); `exchange::respond` may be called from it directly because
/// it posts to the session's strand. Never blocks the calling Asio thread. `timeout` is a
/// std::chrono duration, or `caf::infinite` for a target that always answers (no timer is then
/// registered with the actor clock, whose thread would otherwise wake twice per call).
/// A typed `target` is checked at compile time: it must accept `xs...` and answer `Reply`.
template <class Reply, class Handle, class Timeout, class... Ts>
void ask(caf::actor_system& system, const Handle& target, Timeout timeout,
         std::function<void(caf::expected<Reply>)> on_reply, Ts&&... xs) {
  caf::anon_send(
    bridge_of(system),
    bridge_job{
      [target, timeout = caf::duration{timeout}, on_reply = std::move(on_reply),
       message = std::make_tuple(std::forward<Ts>(xs)...)](actor_bridge::pointer self) mutable {
        std::apply(
          [&](auto&... x) {
            self->request(target, timeout, std::move(x)...)
              .then([on_reply](Reply& reply) { deliver<Reply>(on_reply, std::move(reply)); },
                    [on_reply](caf::error& error) { deliver<Reply>(on_reply, std::move(error)); });
          },
          message);
      }});
}

/// Runs blocking repository work on the db pool and delivers its `caf::expected<T>` result, or
/// the error of the question itself (a timeout included), like `ask`.
template <class T>
void run_db(caf::actor_system& system, const actors::db_pool_actor& db_pool,
            std::chrono::milliseconds timeout,
            std::function<caf::expected<T>(persistence::database&)> work,
            std::function<void(caf::expected<T>)> on_reply) {
  caf::anon_send(
    bridge_of(system), bridge_job{[db_pool, timeout, work = std::move(work),
                                   on_reply = std::move(on_reply)](actor_bridge::pointer self) {
      actors::ask_db(self, db_pool, timeout, work).then([on_reply](caf::expected<T>& outcome) {
        deliver<T>(on_reply, std::move(outcome));
      });
    }});
}

} // namespace cxp::edge

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::edge::bridge_job)
