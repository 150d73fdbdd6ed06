#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include "actors/db/db_worker.hpp"

namespace cxp::edge {

/// The one way from Asio code to an actor: spawns a short-lived actor that sends `xs...` to
/// `target` and calls `on_reply` with the typed answer or the error (a timeout included). The
/// callback runs on a CAF thread; `exchange::respond` may be called from it directly because it
/// posts to the session's strand. Never blocks the calling Asio thread.
template <class Reply, class Handle, class... Ts>
void ask(caf::actor_system& system, const Handle& target, std::chrono::milliseconds timeout,
         std::function<void(caf::expected<Reply>)> on_reply, Ts&&... xs) {
  system.spawn(
    [target, timeout, on_reply = std::move(on_reply),
     message = caf::make_message(std::forward<Ts>(xs)...)](caf::event_based_actor* self) mutable {
      self->request(caf::actor_cast<caf::actor>(target), timeout, std::move(message))
        .then(
          [self, on_reply](Reply& reply) {
            on_reply(std::move(reply));
            self->quit();
          },
          [self, on_reply](caf::error& error) {
            on_reply(std::move(error));
            self->quit();
          });
    });
}

/// Runs blocking repository work on the db pool and delivers its `caf::expected<T>` result.
template <class T>
void run_db(caf::actor_system& system, const caf::actor& db_pool, std::chrono::milliseconds timeout,
            std::function<caf::expected<T>(persistence::database&)> work,
            std::function<void(caf::expected<T>)> on_reply) {
  actors::db_call call{[work = std::move(work)](persistence::database& db) {
    return caf::make_message(work(db));
  }};
  ask<caf::expected<T>>(
    system, db_pool, timeout,
    [on_reply = std::move(on_reply)](caf::expected<caf::expected<T>> outcome) {
      if (!outcome) {
        on_reply(std::move(outcome.error()));
        return;
      }
      on_reply(std::move(*outcome));
    },
    std::move(call));
}

} // namespace cxp::edge
