#include "actors/settings/settings_cache.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "common/log.hpp"
#include "domain/settings/settings_service.hpp"
#include "persistence/settings/settings_repository.hpp"

namespace cxp::actors {

namespace {

constexpr auto db_timeout = std::chrono::seconds{10};

struct stored_settings {
  std::map<std::string, std::string> values;
  std::string revision;
};

struct settings_cache_state {
  settings_snapshot current = std::make_shared<const domain::instance_settings>();
  std::string revision;
  db_pool_actor db;
  std::chrono::milliseconds poll_interval{0};
  static inline const char* name = "settings_cache";
};

using cache_pointer = settings_cache_actor::stateful_pointer<settings_cache_state>;

caf::expected<stored_settings> load_stored(persistence::database& db) {
  persistence::settings_repository repository{db};
  // Revision first: a write landing between the two reads leaves an older revision behind,
  // so the next poll reloads instead of missing the write.
  auto revision = repository.revision();
  auto values = domain::load_stored_settings(db);
  if (!values || !revision) {
    return values ? revision.error() : values.error();
  }
  return stored_settings{std::move(*values), *revision};
}

void reload(cache_pointer self) {
  ask_db(self, self->state.db, db_timeout, load_stored)
    .then([self](caf::expected<stored_settings>& loaded) {
      if (!loaded) {
        log::warn("settings", "settings reload failed; keeping the last snapshot",
                  {{"error", context_of(loaded.error())}});
        return;
      }
      self->state.revision = loaded->revision;
      self->state.current = std::make_shared<const domain::instance_settings>(
        domain::instance_settings::from_stored(loaded->values));
    });
}

settings_cache_actor::behavior_type
settings_cache_behavior(cache_pointer self, db_pool_actor db_pool,
                        std::chrono::milliseconds poll_interval) {
  self->state.db = std::move(db_pool);
  self->state.poll_interval = poll_interval;
  reload(self);
  self->delayed_send(self, poll_interval, tick_atom::value);
  return {
    [self](get_atom) { return self->state.current; },
    [self](reload_atom) { reload(self); },
    [self](tick_atom) {
      self->delayed_send(self, self->state.poll_interval, tick_atom::value);
      ask_db(self, self->state.db, db_timeout, [](persistence::database& db) {
        return persistence::settings_repository{db}.revision();
      }).then([self](caf::expected<std::string>& revision) {
        // A failed poll is retried on the next tick; readiness reports the database itself.
        if (revision && *revision != self->state.revision) {
          reload(self);
        }
      });
    },
  };
}

} // namespace

settings_cache_actor spawn_settings_cache(caf::actor_system& system, db_pool_actor db_pool,
                                          std::chrono::milliseconds poll_interval) {
  return system.spawn(settings_cache_behavior, std::move(db_pool), poll_interval);
}

} // namespace cxp::actors
