#pragma once

#include <any>
#include <chrono>
#include <functional>
#include <type_traits>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/duration.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>

#include "common/log.hpp"
#include "persistence/db/database.hpp"

namespace cxp::actors {

/// What a db worker answers: the result of the call's work, type-erased so that one interface
/// carries every call. Only `ask_db`, which built the call, unpacks it.
struct db_result {
  std::any value;
};

/// A unit of blocking database work, run on a db worker's own thread.
struct db_call {
  std::function<db_result(persistence::database&)> run;
};

/// The db pool's interface: `db_call` → `db_result`, or an `internal_error` when the work threw.
/// Ask it through `ask_db` or `db_write`, which keep the result's type.
using db_pool_actor = caf::typed_actor<caf::replies_to<db_call>::with<db_result>>;

/// Spawns `workers` detached actors behind one round-robin handle. Each owns a thread, so
/// repositories may block there; nothing else in the process talks to the database.
db_pool_actor spawn_db_pool(caf::actor_system& system, persistence::database& db, size_t workers);

/// A question to the db pool whose answer has the type its work returns (`Result`, a
/// `caf::expected<T>`). Nothing is sent until `then` is called.
template <class Self, class Result>
class [[nodiscard]] db_request {
public:
  db_request(Self* self, db_pool_actor pool, caf::duration timeout, db_call call)
      : self_(self),
        pool_(std::move(pool)),
        timeout_(timeout),
        call_(std::move(call)) {}

  /// Calls `on_result(Result&)` in `self` with what the work returned, or `on_error(caf::error&)`
  /// when the question itself failed (a timeout, a dead pool, work that threw).
  template <class OnResult, class OnError>
  void then(OnResult on_result, OnError on_error) && {
    self_->request(pool_, timeout_, std::move(call_))
      .then([on_result = std::move(on_result)](
              db_result& answer) mutable { on_result(std::any_cast<Result&>(answer.value)); },
            std::move(on_error));
  }

  /// Calls `on_outcome(Result&)` in `self` with what the work returned or, when the question
  /// itself failed, with that error.
  template <class OnOutcome>
  void then(OnOutcome on_outcome) && {
    std::move(*this).then([on_outcome](Result& result) mutable { on_outcome(result); },
                          [on_outcome](caf::error& error) mutable {
                            Result failed{std::move(error)};
                            on_outcome(failed);
                          });
  }

private:
  Self* self_;
  db_pool_actor pool_;
  caf::duration timeout_;
  db_call call_;
};

/// Asks `pool` to run `work` (blocking repository code: `persistence::database&` →
/// `caf::expected<T>`) on a worker; continue with `.then(...)`, which runs in `self`.
/// `timeout` is a std::chrono duration or `caf::infinite`.
template <class Self, class Timeout, class Work>
auto ask_db(Self* self, const db_pool_actor& pool, Timeout timeout, Work work) {
  using result = std::invoke_result_t<Work&, persistence::database&>;
  db_call call{[work = std::move(work)](persistence::database& db) mutable {
    return db_result{std::any{work(db)}};
  }};
  return db_request<Self, result>{self, pool, caf::duration{timeout}, std::move(call)};
}

/// Runs a write whose result only matters when it fails (logged under `what`).
template <class Self, class Work>
void db_write(Self* self, const db_pool_actor& pool, const char* what, Work write) {
  ask_db(self, pool, std::chrono::seconds{30}, std::move(write))
    .then([what](caf::expected<void>& written) {
      if (!written) {
        log::warn("db", "write failed", {{"what", what}, {"error", context_of(written.error())}});
      }
    });
}

} // namespace cxp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::db_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::db_result)
