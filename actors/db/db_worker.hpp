#pragma once

#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>

#include "common/log.hpp"
#include "persistence/db/database.hpp"

namespace cxp::actors {

/// A unit of blocking database work. It runs on a db_worker's own thread and returns its result
/// packed in a message (usually one `caf::expected<T>`).
struct db_call {
  std::function<caf::message(persistence::database&)> run;
};

/// Spawns `workers` detached actors behind one round-robin handle. Each owns a thread, so
/// repositories may block there; nothing else in the process talks to the database. A caller
/// sends `db_call` and receives the message it returns.
caf::actor spawn_db_pool(caf::actor_system& system, persistence::database& db, size_t workers);

/// Runs a write whose result only matters when it fails (logged under `what`). Goes through a
/// request so the worker's answer comes back as a response, never as a stray message.
template <class Self>
void db_write(Self* self, const caf::actor& db_pool, const char* what,
              std::function<caf::expected<void>(persistence::database&)> write) {
  db_call call{[write = std::move(write)](persistence::database& db) {
    return caf::make_message(write(db));
  }};
  self->request(db_pool, std::chrono::seconds{30}, std::move(call))
    .then(
      [what](caf::expected<void>& written) {
        if (!written) {
          log::warn("db", "write failed", {{"what", what}, {"error", context_of(written.error())}});
        }
      },
      [what](caf::error& error) {
        log::warn("db", "write failed", {{"what", what}, {"error", caf::to_string(error)}});
      });
}

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::db_call)

namespace caf {
// Database results stay on the node that produced them, so they need no serialization.
template <class T>
struct allowed_unsafe_message_type<expected<T>> : std::true_type {};
} // namespace caf
