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
  caf::actor db;
  std::chrono::milliseconds poll_interval{0};
  static inline const char* name = "settings_cache";
};

using cache_pointer = settings_cache_actor::stateful_pointer<settings_cache_state>;

db_call load_call() {
  return db_call{[](persistence::database& db) {
    persistence::settings_repository repository{db};
    // Revision first: a write landing between the two reads leaves an older revision behind,
    // so the next poll reloads instead of missing the write.
    auto revision = repository.revision();
    auto values = domain::load_stored_settings(db);
    if (!values || !revision) {
      return caf::make_message(
        caf::expected<stored_settings>{values ? revision.error() : values.error()});
    }
    return caf::make_message(
      caf::expected<stored_settings>{stored_settings{std::move(*values), *revision}});
  }};
}

db_call revision_call() {
  return db_call{[](persistence::database& db) {
    return caf::make_message(persistence::settings_repository{db}.revision());
  }};
}

void reload(cache_pointer self) {
  self->request(self->state.db, db_timeout, load_call())
    .then(
      [self](caf::expected<stored_settings>& loaded) {
        if (!loaded) {
          log::warn("settings", "settings reload failed; keeping the last snapshot",
                    {{"error", context_of(loaded.error())}});
          return;
        }
        self->state.revision = loaded->revision;
        self->state.current = std::make_shared<const domain::instance_settings>(
          domain::instance_settings::from_stored(loaded->values));
      },
      [](caf::error& error) {
        log::warn("settings", "settings reload failed; keeping the last snapshot",
                  {{"error", caf::to_string(error)}});
      });
}

settings_cache_actor::behavior_type
settings_cache_behavior(cache_pointer self, caf::actor db,
                        std::chrono::milliseconds poll_interval) {
  self->state.db = std::move(db);
  self->state.poll_interval = poll_interval;
  reload(self);
  self->delayed_send(self, poll_interval, tick_atom::value);
  return {
    [self](get_atom) { return self->state.current; },
    [self](reload_atom) { reload(self); },
    [self](tick_atom) {
      self->delayed_send(self, self->state.poll_interval, tick_atom::value);
      self->request(self->state.db, db_timeout, revision_call())
        .then(
          [self](caf::expected<std::string>& revision) {
            if (revision && *revision != self->state.revision) {
              reload(self);
            }
          },
          [](caf::error&) {
            // A missed poll is retried on the next tick; readiness reports the database itself.
          });
    },
  };
}

} // namespace

settings_cache_actor spawn_settings_cache(caf::actor_system& system, caf::actor db_pool,
                                          std::chrono::milliseconds poll_interval) {
  return system.spawn(settings_cache_behavior, std::move(db_pool), poll_interval);
}

} // namespace cxp::actors
