#pragma once

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/metrics/registry.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::actors {

/// The request-log writer's interface (see `spawn_request_log_writer`).
using request_log_actor = caf::typed_actor<caf::reacts_to<persistence::request_log_row>,
                                           caf::replies_to<flush_atom>::with<bool>>;

/// Batches request-log rows off the request path: a `request_log_row` message is buffered and
/// written with the others of its batch in one transaction, every `flush_interval` or at
/// `max_batch` rows (also right after a write: rows that arrived meanwhile wait for either). A
/// failed write is retried with the next batch (bounded by `max_buffered`, beyond which the oldest
/// rows are dropped, logged and added to `dropped`, which must outlive the actor). `flush_atom` →
/// `bool` writes now and answers when the buffer is empty (tests and shutdown).
request_log_actor spawn_request_log_writer(caf::actor_system& system, db_pool_actor db_pool,
                                           std::chrono::milliseconds flush_interval,
                                           metrics::counter& dropped, size_t max_batch = 200,
                                           size_t max_buffered = 50'000);

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::persistence::request_log_row)
