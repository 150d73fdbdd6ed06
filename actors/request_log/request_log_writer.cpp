#include "actors/request_log/request_log_writer.hpp"

#include <deque>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/log.hpp"
#include "domain/pricing/pricing_import.hpp"
#include "domain/pricing/request_cost.hpp"

namespace cxp::actors {

namespace {

constexpr auto db_timeout = std::chrono::seconds{30};

struct writer_state {
  std::chrono::milliseconds flush_interval{0};
  // Not the first member: CAF builds a state from the actor's pointer when it can, and C++20
  // would let it try through a typed handle's constructor.
  db_pool_actor db;
  size_t max_batch = 0;
  size_t max_buffered = 0;
  metrics::counter* dropped = nullptr;
  std::deque<persistence::request_log_row> buffer;
  bool writing = false;
  bool tick_scheduled = false;
  std::vector<caf::response_promise> flush_waiters;
  /// The prices of the snapshot in force at the last write (null before the first).
  std::shared_ptr<const domain::price_book> prices;
  static inline const char* name = "request_log_writer";
};

/// The writer as it addresses itself: `tick_atom` is its flush timer.
using writer_impl = request_log_actor::extend<caf::reacts_to<tick_atom>>;

using writer_self = caf::stateful_actor<writer_state, writer_impl::base>;

void write_batch(writer_self* self);

void schedule(writer_self* self) {
  if (!self->state.tick_scheduled && !self->state.buffer.empty()) {
    self->state.tick_scheduled = true;
    self->delayed_send(self, self->state.flush_interval, tick_atom::value);
  }
}

/// Drops the oldest rows beyond `max_buffered`, each logged and counted.
void trim_to_bound(writer_self* self) {
  auto& buffer = self->state.buffer;
  while (buffer.size() > self->state.max_buffered) {
    log::error("request_log", "request log buffer full; dropping the oldest row", {});
    buffer.pop_front();
    self->state.dropped->increment();
  }
}

/// A batch whose write failed goes back in front of the rows that came in meanwhile.
void restore(writer_self* self, std::vector<persistence::request_log_row> batch) {
  auto& buffer = self->state.buffer;
  buffer.insert(buffer.begin(), std::make_move_iterator(batch.begin()),
                std::make_move_iterator(batch.end()));
  trim_to_bound(self);
}

/// Answers the flush waiters once every row is written (none buffered, none in flight).
void settle_waiters(writer_self* self) {
  if (!self->state.writing && self->state.buffer.empty()) {
    for (auto& waiter : self->state.flush_waiters) {
      waiter.deliver(true);
    }
    self->state.flush_waiters.clear();
  }
}

/// Buffers `row`, dropping the oldest rows beyond `max_buffered`.
void buffer_row(writer_self* self, persistence::request_log_row row) {
  auto& buffer = self->state.buffer;
  buffer.push_back(std::move(row));
  trim_to_bound(self);
}

void write_batch(writer_self* self) {
  auto& state = self->state;
  if (state.writing || state.buffer.empty()) {
    settle_waiters(self);
    return;
  }
  state.writing = true;
  const auto count = static_cast<std::ptrdiff_t>(std::min(state.max_batch, state.buffer.size()));
  // Moved out, not copied: a failed write puts the rows back in front.
  auto batch = std::make_shared<std::vector<persistence::request_log_row>>(
    std::make_move_iterator(state.buffer.begin()),
    std::make_move_iterator(state.buffer.begin() + count));
  state.buffer.erase(state.buffer.begin(), state.buffer.begin() + count);
  using book_ptr = std::shared_ptr<const domain::price_book>;
  auto done = [self, batch](bool written) {
    self->state.writing = false;
    if (!written) {
      restore(self, std::move(*batch));
    } else {
      auto& writer = self->state;
      // What came in during the write waits for its batch to fill or its tick: writing it at
      // once would commit a handful of rows per transaction under load.
      if (writer.buffer.size() >= writer.max_batch || !writer.flush_waiters.empty()) {
        write_batch(self);
        return;
      }
      settle_waiters(self);
    }
    schedule(self);
  };
  // Each batch is priced with the snapshot in force when it is written, a flush interval at
  // most after its requests finished: one indexed read tells whether a newer snapshot was
  // imported (on any node) since the last batch, and only then are its prices loaded.
  ask_db(self, state.db, db_timeout,
         [batch, held = state.prices](persistence::database& db) -> caf::expected<book_ptr> {
           auto book = domain::current_price_book(db, held);
           if (!book) {
             return book.error();
           }
           for (auto& row : *batch) {
             domain::price_log_row(**book, row);
           }
           if (auto written = persistence::request_log_repository{db}.insert_batch(*batch);
               !written) {
             return written.error();
           }
           return book;
         })
    .then([self, done](caf::expected<book_ptr>& written) {
      if (!written) {
        log::warn("request_log", "request log batch failed; retrying",
                  {{"error", context_of(written.error())}});
        return done(false);
      }
      self->state.prices = std::move(*written);
      done(true);
    });
}

writer_impl::behavior_type writer_behavior(writer_self* self, db_pool_actor db,
                                           std::chrono::milliseconds flush_interval,
                                           metrics::counter* dropped, size_t max_batch,
                                           size_t max_buffered) {
  self->state.db = std::move(db);
  self->state.dropped = dropped;
  self->state.flush_interval = flush_interval;
  self->state.max_batch = max_batch;
  self->state.max_buffered = max_buffered;
  return {
    [self](persistence::request_log_row& row) {
      buffer_row(self, std::move(row));
      if (self->state.buffer.size() >= self->state.max_batch) {
        write_batch(self);
      } else {
        schedule(self);
      }
    },
    [self](tick_atom) {
      self->state.tick_scheduled = false;
      write_batch(self);
    },
    [self](flush_atom) -> caf::result<bool> {
      if (self->state.buffer.empty() && !self->state.writing) {
        return true;
      }
      auto promise = self->make_response_promise();
      self->state.flush_waiters.push_back(promise);
      write_batch(self);
      return promise;
    },
  };
}

} // namespace

request_log_actor spawn_request_log_writer(caf::actor_system& system, db_pool_actor db_pool,
                                           std::chrono::milliseconds flush_interval,
                                           metrics::counter& dropped, size_t max_batch,
                                           size_t max_buffered) {
  return system.spawn(writer_behavior, std::move(db_pool), flush_interval, &dropped, max_batch,
                      max_buffered);
}

} // namespace cxp::actors
