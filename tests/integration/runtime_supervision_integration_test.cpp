// The runtime directory supervises the routing actors it spawns: an account actor that fails
// is spawned again (and announced to the custodian) instead of leaving its pools a dead handle,
// and a pool handed out to turns (which lease from it directly) is replaced the same way.
#include <functional>
#include <mutex>
#include <optional>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/pool/pool_actor.hpp"
#include "actors/runtime/runtime_directory.hpp"
#include "actors/settings/settings_cache.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "common/clock.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/runtime_rig.hpp"

using namespace cxp;

namespace {

/// What the directory announced to the custodian last.
struct announcements {
  std::mutex mutex;
  actors::account_handles last;

  actors::account_actor account(const std::string& id) {
    std::lock_guard lock{mutex};
    auto it = last.find(id);
    return it == last.end() ? actors::account_actor{} : it->second;
  }
};

/// A custodian that records the directory's announcements and owns nothing.
actors::account_custodian_actor::behavior_type
recording_custodian(std::shared_ptr<announcements> seen) {
  return {
    [seen](actors::put_atom, actors::account_handles& handles) {
      std::lock_guard lock{seen->mutex};
      seen->last = std::move(handles);
    },
    [](const actors::account_tokens_changed&) {},
    [](actors::get_atom) { return actors::custody_status{}; },
    [](actors::hand_off_atom) { return int64_t{0}; },
  };
}

/// A runtime directory over a SQLite database seeded by `seed`, with the actors it needs; the
/// custodian records what the directory announces.
struct directory_rig {
  explicit directory_rig(const std::function<void(soci::session&)>& seed) {
    REQUIRE(node.database.db().run(seed));
    directory = actors::spawn_runtime_directory(node.system, node.deps, settings, custodian,
                                                std::chrono::milliseconds{200});
  }

  ~directory_rig() {
    caf::scoped_actor self{node.system};
    for (const auto& actor : std::vector<caf::actor>{caf::actor_cast<caf::actor>(directory),
                                                     caf::actor_cast<caf::actor>(settings),
                                                     caf::actor_cast<caf::actor>(custodian)}) {
      self->send_exit(actor, caf::exit_reason::user_shutdown);
      self->wait_for(actor);
    }
  }

  system_clock_source clock;
  test::runtime_rig node{test::backend::sqlite, clock};
  actors::settings_cache_actor settings =
    actors::spawn_settings_cache(node.system, node.db_pool, std::chrono::seconds{1});
  std::shared_ptr<announcements> seen = std::make_shared<announcements>();
  actors::account_custodian_actor custodian = node.system.spawn(recording_custodian, seen);
  actors::runtime_directory_actor directory;
};

} // namespace

TEST_CASE("an account actor that fails is spawned again by the runtime directory",
          "[integration][supervision]") {
  directory_rig rig{[](soci::session& sql) {
    sql << "INSERT INTO upstream_accounts (id, chatgpt_account_id, secret_key_version, "
           "access_token_ciphertext, refresh_token_ciphertext, created_at, updated_at) VALUES "
           "('acct-a', 'chatgpt-a', 'v1', 'x', 'x', '2026-01-01T00:00:00Z', "
           "'2026-01-01T00:00:00Z')";
    sql << "INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES ('pool-a', "
           "'pool-a', 'Pool A', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";
    sql << "INSERT INTO pool_accounts (pool_id, account_id, created_at) VALUES ('pool-a', "
           "'acct-a', '2026-01-01T00:00:00Z')";
  }};
  auto& seen = rig.seen;
  REQUIRE(test::eventually([&] { return static_cast<bool>(seen->account("acct-a")); }));
  auto first = seen->account("acct-a");
  caf::anon_send_exit(first, caf::exit_reason::kill);

  CHECK(test::eventually([&] {
    auto current = seen->account("acct-a");
    return current && current != first;
  }));
  CHECK(rig.node.metrics.actor_restarts.add({}).value() == 1);
}

TEST_CASE("the runtime directory hands out a pool's actor and, once it died, its successor",
          "[integration][supervision]") {
  directory_rig rig{[](soci::session& sql) {
    sql << "INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES ('pool-a', "
           "'pool-a', 'Pool A', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";
  }};
  caf::scoped_actor self{rig.node.system};
  auto handle_of = [&](const std::string& pool_id) {
    actors::lease_source_actor pool;
    self->request(rig.directory, std::chrono::seconds{5}, actors::pool_handle_request{pool_id})
      .receive([&](actors::lease_source_actor& answer) { pool = std::move(answer); },
               [](caf::error&) {});
    return pool;
  };
  REQUIRE(test::eventually([&] { return static_cast<bool>(handle_of("pool-a")); }));
  CHECK_FALSE(handle_of("pool-unknown"));

  // The handle leases like the directory does: this pool has no account, so both deny alike.
  auto first = handle_of("pool-a");
  actors::lease_request lease;
  lease.pool_id = "pool-a";
  lease.request_id = "request-1";
  auto denial_from = [&](const auto& source) {
    std::optional<errc> denied;
    self->request(source, std::chrono::seconds{5}, lease)
      .receive([&](actors::lease_reply& reply) { denied = reply.denial.code; }, [](caf::error&) {});
    return denied;
  };
  const auto from_pool = denial_from(first);
  REQUIRE(from_pool);
  CHECK(from_pool == denial_from(rig.directory));

  caf::anon_send_exit(first, caf::exit_reason::kill);
  CHECK(test::eventually([&] {
    auto current = handle_of("pool-a");
    return current && current != first;
  }));
}
