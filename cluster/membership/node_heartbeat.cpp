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
  actors::db_pool_actor db;
  std::string status = "up";
  std::chrono::milliseconds interval{0};
  static inline const char* name = "node_heartbeat";
};

/// The heartbeat as it addresses itself: `tick_atom` is its renewal timer.
using heartbeat_impl = node_heartbeat_actor::extend<caf::reacts_to<actors::tick_atom>>;

/// Writes this node's status (registering it on the first write) and logs a failed write.
template <class Self>
void write_status(Self* self, std::string status, bool first, std::function<void()> then = {}) {
  actors::ask_db(self, self->state.db, db_timeout,
                 [identity = self->state.identity, status = std::move(status),
                  first](persistence::database& db) {
                   persistence::cluster_node_repository repository{db};
                   const auto now = to_iso8601(std::chrono::system_clock::now());
                   if (first) {
                     return repository.register_node({identity.id, identity.name, identity.role,
                                                      identity.host, identity.http_port,
                                                      identity.cluster_port, status, now, now});
                   }
                   return repository.heartbeat(identity.id, status, now);
                 })
    .then([then = std::move(then)](caf::expected<void>& written) {
      if (!written) {
        log::warn("cluster", "heartbeat write failed", {{"error", context_of(written.error())}});
      }
      if (then) {
        then();
      }
    });
}

heartbeat_impl::behavior_type
heartbeat_behavior(caf::stateful_actor<heartbeat_state, heartbeat_impl::base>* self,
                   actors::db_pool_actor db, node_identity identity,
                   std::chrono::milliseconds interval) {
  self->state.identity = std::move(identity);
  self->state.db = std::move(db);
  self->state.interval = interval;
  write_status(self, "up", true);
  self->delayed_send(self, interval, actors::tick_atom::value);
  return {
    [=](actors::tick_atom) {
      self->delayed_send(self, self->state.interval, actors::tick_atom::value);
      write_status(self, self->state.status, false);
    },
    [=](actors::drain_atom) {
      self->state.status = "draining";
      write_status(self, "draining", false);
    },
    [=](actors::down_atom) -> caf::result<bool> {
      self->state.status = "down";
      auto promise = self->make_response_promise();
      write_status(self, "down", false, [self, promise]() mutable {
        promise.deliver(true);
        self->quit();
      });
      return promise;
    },
  };
}

} // namespace

node_heartbeat_actor spawn_node_heartbeat(caf::actor_system& system, actors::db_pool_actor db_pool,
                                          node_identity identity,
                                          std::chrono::milliseconds interval) {
  return system.spawn(heartbeat_behavior, std::move(db_pool), std::move(identity), interval);
}

} // namespace cxp::cluster
