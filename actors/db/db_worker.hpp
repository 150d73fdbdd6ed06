#pragma once

#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>

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

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::db_call)

namespace caf {
// Database results stay on the node that produced them, so they need no serialization.
template <class T>
struct allowed_unsafe_message_type<expected<T>> : std::true_type {};
} // namespace caf
