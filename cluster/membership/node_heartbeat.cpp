#include "cluster/membership/node_heartbeat.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/type_ids.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"

namespace cxp::cluster {

namespace {

constexpr auto db_timeout = std::chrono::seconds{5};

struct heartbeat_state {
  node_identity identity;
  caf::actor db;
  std::string status = "up";
  std::chrono::milliseconds interval{0};
  static inline const char* name = "node_heartbeat";
};

/// The heartbeat as it addresses itself: `tick_atom` is its renewal timer.
using heartbeat_impl = node_heartbeat_actor::extend<caf::reacts_to<actors::tick_atom>>;

actors::db_call write_status(const node_identity& identity, std::string status, bool first) {
  return actors::db_call{[identity, status = std::move(status), first](persistence::database& db) {
    persistence::cluster_node_repository repository{db};
    const auto now = to_iso8601(std::chrono::system_clock::now());
    if (first) {
      return caf::make_message(
        repository.register_node({identity.id, identity.name, identity.role, identity.host,
                                  identity.http_port, identity.cluster_port, status, now, now}));
    }
    return caf::make_message(repository.heartbeat(identity.id, status, now));
  }};
}

heartbeat_impl::behavior_type
heartbeat_behavior(caf::stateful_actor<heartbeat_state, heartbeat_impl::base>* self, caf::actor db,
                   node_identity identity, std::chrono::milliseconds interval) {
  self->state.identity = std::move(identity);
  self->state.db = std::move(db);
  self->state.interval = interval;
  auto report = [self](caf::expected<void>& written) {
    if (!written) {
      log::warn("cluster", "heartbeat write failed", {{"error", context_of(written.error())}});
    }
  };
  auto ignore = [](caf::error&) {
  };
  self->request(self->state.db, db_timeout, write_status(self->state.identity, "up", true))
    .then(report, ignore);
  self->delayed_send(self, interval, actors::tick_atom::value);
  return {
    [=](actors::tick_atom) {
      self->delayed_send(self, self->state.interval, actors::tick_atom::value);
      self
        ->request(self->state.db, db_timeout,
                  write_status(self->state.identity, self->state.status, false))
        .then(report, ignore);
    },
    [=](actors::drain_atom) {
      self->state.status = "draining";
      self
        ->request(self->state.db, db_timeout, write_status(self->state.identity, "draining", false))
        .then(report, ignore);
    },
    [=](actors::down_atom) -> caf::result<bool> {
      self->state.status = "down";
      auto promise = self->make_response_promise();
      auto finish = [self, promise]() mutable {
        promise.deliver(true);
        self->quit();
      };
      self->request(self->state.db, db_timeout, write_status(self->state.identity, "down", false))
        .then([finish](caf::expected<void>&) mutable { finish(); },
              [finish](caf::error&) mutable { finish(); });
      return promise;
    },
  };
}

} // namespace

node_heartbeat_actor spawn_node_heartbeat(caf::actor_system& system, caf::actor db_pool,
                                          node_identity identity,
                                          std::chrono::milliseconds interval) {
  return system.spawn(heartbeat_behavior, std::move(db_pool), std::move(identity), interval);
}

} // namespace cxp::cluster
