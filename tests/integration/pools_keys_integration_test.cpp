#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/keys/key_authenticator.hpp"
#include "domain/pools/pool_service.hpp"
#include "edge/routes/admin_api/admin_fields.hpp"
#include "persistence/api_keys/api_key_repository.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/pools/pool_repository.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using namespace cxp::domain;
using cxp::edge::parse_api_key_fields;
using namespace std::chrono_literals;
using test::backend;

namespace {

persistence::keyring make_ring(char fill) {
  auto ring = persistence::keyring::make({"v1", secret<std::string>{std::string(32, fill)}});
  REQUIRE(ring);
  return std::move(*ring);
}

secret<std::string> derived(const char* purpose) {
  auto key = persistence::derive_key(secret<std::string>{"test-secret-key-base"}, purpose);
  REQUIRE(key);
  return std::move(*key);
}

/// One migrated database with both services over it, a manual clock and an owner operator.
struct fixture {
  explicit fixture(backend kind)
      : database(kind),
        upstream(make_ring('u')),
        totp(make_ring('t')),
        context{
          database.db(), clock, upstream, totp, derived("pool-api-key"), derived("operator-token")},
        pools(context),
        keys(context),
        authenticator(context) {
    owner.type = principal::kind::operator_session;
    owner.role = "instance_owner";
    owner.operator_id = insert_operator("owner@example.com", "instance_owner");
    owner.client_ip = "127.0.0.1";
  }

  std::string insert_operator(const std::string& email, const std::string& role) {
    const auto id = new_uuid();
    const auto now = to_iso8601(clock.now());
    REQUIRE(database.db().run([&](soci::session& sql) {
      sql << "INSERT INTO operators (id, email, display_name, role, created_at, updated_at) "
             "VALUES (:id, :email, :name, :role, :created, :updated)",
        soci::use(id), soci::use(email), soci::use(email), soci::use(role), soci::use(now),
        soci::use(now);
    }));
    return id;
  }

  /// An instance_admin assigned to `pool_ids`, through the table and the principal alike.
  principal admin_for(const std::vector<std::string>& pool_ids) {
    principal admin;
    admin.type = principal::kind::operator_session;
    admin.role = "instance_admin";
    admin.operator_id =
      insert_operator("admin-" + new_uuid().substr(0, 8) + "@example.com", "instance_admin");
    const auto now = to_iso8601(clock.now());
    for (const auto& pool_id : pool_ids) {
      REQUIRE(database.db().run([&](soci::session& sql) {
        sql << "INSERT INTO operator_pool_assignments (operator_id, pool_id, created_at) VALUES "
               "(:o, :p, :c)",
          soci::use(admin.operator_id), soci::use(pool_id), soci::use(now);
      }));
    }
    auto assigned =
      persistence::pool_repository{database.db()}.assigned_pool_ids(admin.operator_id);
    REQUIRE(assigned);
    admin.pool_ids = *assigned;
    return admin;
  }

  pool_view make_pool(const std::string& name) {
    pool_fields fields;
    fields.name = name;
    auto pool = pools.create(owner, fields);
    REQUIRE(pool);
    return *pool;
  }

  created_api_key make_key(const std::string& pool_id, const std::string& name = "ci") {
    api_key_fields fields;
    fields.pool_id = pool_id;
    fields.display_name = name;
    auto key = keys.create(owner, fields);
    REQUIRE(key);
    return std::move(*key);
  }

  int64_t count(const std::string& query) {
    auto n = database.db().run([&](soci::session& sql) {
      soci::row row;
      sql << query, soci::into(row);
      return persistence::row_reader{row}.int64(0);
    });
    REQUIRE(n);
    return *n;
  }

  int64_t audits(const std::string& action) {
    return count("SELECT COUNT(*) FROM audit_events WHERE action = '" + action + "'");
  }

  /// Every text value of every row of `table`.
  std::vector<std::string> text_cells(const std::string& table) {
    auto cells = database.db().run([&](soci::session& sql) {
      std::vector<std::string> out;
      soci::rowset<soci::row> rows = sql.prepare << "SELECT * FROM " << table;
      for (const auto& row : rows) {
        for (size_t i = 0; i < row.size(); ++i) {
          if (row.get_indicator(i) != soci::i_null
              && row.get_properties(i).get_data_type() == soci::dt_string) {
            out.push_back(row.get<std::string>(i));
          }
        }
      }
      return out;
    });
    REQUIRE(cells);
    return *cells;
  }

  std::optional<std::string> stored_last_used(const std::string& key_id) {
    auto row = persistence::api_key_repository{database.db()}.get(key_id);
    REQUIRE(row);
    return row->last_used_at;
  }

  test::test_database database;
  manual_clock clock;
  persistence::keyring upstream;
  persistence::keyring totp;
  service_context context;
  pool_service pools;
  api_key_service keys;
  key_authenticator authenticator;
  principal owner;
};

errc code_of(const caf::error& err) {
  return to_errc(err);
}

pool_fields named(const std::string& name) {
  pool_fields fields;
  fields.name = name;
  return fields;
}

api_key_fields key_fields(std::optional<std::string> pool_id,
                          std::optional<std::string> display_name) {
  api_key_fields fields;
  fields.pool_id = std::move(pool_id);
  fields.display_name = std::move(display_name);
  return fields;
}

} // namespace

TEST_CASE("pools are created with defaults, listed, fetched, updated, disabled and enabled",
          "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};

  auto team = f.pools.create(f.owner, named("  Team A  "));
  REQUIRE(team);
  CHECK(team->name == "Team A");
  CHECK(team->slug == "team-a");
  CHECK(team->status == "active");
  CHECK(team->routing_strategy == "bridge_ring");
  CHECK(team->ring_size == 3);
  CHECK(team->sticky_sessions);
  CHECK(team->prompt_cache_affinity);
  CHECK(team->v1_compatibility_enabled);
  CHECK(team->allow_image_generation);
  CHECK_FALSE(team->disabled_at);
  CHECK(to_json(*team)["disabled_at"].is_null());

  f.clock.advance(1s);
  pool_fields research;
  research.name = "Research";
  research.slug = "research-lab";
  research.routing_strategy = "quota_first";
  research.ring_size = 64;
  research.sticky_sessions = false;
  auto lab = f.pools.create(f.owner, research);
  REQUIRE(lab);
  CHECK(lab->slug == "research-lab");
  CHECK(lab->routing_strategy == "quota_first");
  CHECK(lab->ring_size == 64);
  CHECK_FALSE(lab->sticky_sessions);

  SECTION("slugs are unique ignoring case") {
    pool_fields clash;
    clash.name = "Another";
    clash.slug = "TEAM-A";
    auto again = f.pools.create(f.owner, clash);
    REQUIRE_FALSE(again);
    CHECK(code_of(again.error()) == errc::conflict);
    // A row written with capitals elsewhere still blocks the lower-case slug (the index is on
    // lower()).
    persistence::pool_row legacy;
    legacy.id = new_uuid();
    legacy.slug = "Legacy-Pool";
    legacy.name = "Legacy";
    legacy.created_at = legacy.updated_at = to_iso8601(f.clock.now());
    auto event = audit_event(f.context, f.owner, "pool.create");
    REQUIRE(persistence::pool_repository{f.database.db()}.insert(legacy, event));
    clash.slug = "legacy-pool";
    auto lower = f.pools.create(f.owner, clash);
    REQUIRE_FALSE(lower);
    CHECK(code_of(lower.error()) == errc::conflict);
    pool_fields rename;
    rename.slug = "Team-A";
    auto renamed = f.pools.update(f.owner, lab->id, rename);
    REQUIRE_FALSE(renamed);
    CHECK(code_of(renamed.error()) == errc::conflict);
  }

  SECTION("invalid fields are rejected with field errors") {
    auto missing = f.pools.create(f.owner, pool_fields{});
    REQUIRE_FALSE(missing);
    CHECK(code_of(missing.error()) == errc::validation_failed);
    CHECK(field_errors_of(missing.error()).count("name") == 1);
    pool_fields bad;
    bad.name = "Bad";
    bad.ring_size = 0;
    bad.routing_strategy = "random";
    bad.slug = "no spaces";
    auto rejected = f.pools.create(f.owner, bad);
    REQUIRE_FALSE(rejected);
    const auto errors = field_errors_of(rejected.error());
    CHECK(errors.count("ring_size") == 1);
    CHECK(errors.count("routing_strategy") == 1);
    CHECK(errors.count("slug") == 1);
    pool_fields too_big;
    too_big.ring_size = 65;
    auto update = f.pools.update(f.owner, team->id, too_big);
    REQUIRE_FALSE(update);
    CHECK(code_of(update.error()) == errc::validation_failed);
  }

  SECTION("list filters by status and search and pages with a cursor") {
    auto all = f.pools.list(f.owner, pool_filter{});
    REQUIRE(all);
    REQUIRE(all->items.size() == 2);
    CHECK(all->items[0].id == team->id);
    CHECK_FALSE(all->next_cursor);

    pool_filter search;
    search.search = "LAB";
    auto found = f.pools.list(f.owner, search);
    REQUIRE(found);
    REQUIRE(found->items.size() == 1);
    CHECK(found->items[0].id == lab->id);
    search.search = "%";
    CHECK(f.pools.list(f.owner, search)->items.empty());

    pool_filter first;
    first.page.limit = 1;
    auto page1 = f.pools.list(f.owner, first);
    REQUIRE(page1);
    REQUIRE(page1->items.size() == 1);
    REQUIRE(page1->next_cursor);
    first.page.cursor = page1->next_cursor;
    auto page2 = f.pools.list(f.owner, first);
    REQUIRE(page2);
    REQUIRE(page2->items.size() == 1);
    CHECK(page2->items[0].id == lab->id);
    CHECK_FALSE(page2->next_cursor);

    pool_filter bad_status;
    bad_status.status = "archived";
    CHECK(code_of(f.pools.list(f.owner, bad_status).error()) == errc::validation_failed);
  }

  SECTION("update, disable and enable each write one audit event") {
    f.clock.advance(1s);
    pool_fields change;
    change.name = "Team Alpha";
    change.ring_size = 5;
    change.v1_compatibility_enabled = false;
    auto updated = f.pools.update(f.owner, team->id, change);
    REQUIRE(updated);
    CHECK(updated->name == "Team Alpha");
    CHECK(updated->slug == "team-a");
    CHECK(updated->ring_size == 5);
    CHECK_FALSE(updated->v1_compatibility_enabled);
    CHECK(updated->updated_at > team->updated_at);
    auto fetched = f.pools.get(f.owner, team->id);
    REQUIRE(fetched);
    CHECK(fetched->name == "Team Alpha");
    CHECK(fetched->ring_size == 5);
    CHECK(f.pools.update(f.owner, team->id, change)); // no change, no event

    auto disabled = f.pools.disable(f.owner, team->id);
    REQUIRE(disabled);
    CHECK(disabled->status == "disabled");
    CHECK(disabled->disabled_at);
    CHECK(f.pools.disable(f.owner, team->id));
    pool_filter only_disabled;
    only_disabled.status = "disabled";
    auto listed = f.pools.list(f.owner, only_disabled);
    REQUIRE(listed);
    REQUIRE(listed->items.size() == 1);
    CHECK(listed->items[0].id == team->id);

    auto enabled = f.pools.enable(f.owner, team->id);
    REQUIRE(enabled);
    CHECK(enabled->status == "active");
    CHECK_FALSE(enabled->disabled_at);
    CHECK_FALSE(f.pools.get(f.owner, team->id)->disabled_at);

    CHECK(f.audits("pool.create") == 2);
    CHECK(f.audits("pool.update") == 1);
    CHECK(f.audits("pool.disable") == 1);
    CHECK(f.audits("pool.enable") == 1);
    CHECK(f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'pool.update' AND target_id = '"
                  + team->id + "' AND actor_id = '" + f.owner.operator_id
                  + "' AND outcome = 'success'")
          == 1);
  }

  SECTION("unknown pools are not found") {
    auto missing = f.pools.get(f.owner, new_uuid());
    REQUIRE_FALSE(missing);
    CHECK(code_of(missing.error()) == errc::not_found);
    CHECK(code_of(f.pools.disable(f.owner, new_uuid()).error()) == errc::not_found);
  }
}

TEST_CASE("instance admins see and change only their assigned pools", "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto mine = f.make_pool("Mine");
  const auto other = f.make_pool("Other");
  const auto admin = f.admin_for({mine.id});
  REQUIRE(admin.pool_ids == std::vector<std::string>{mine.id});

  auto listed = f.pools.list(admin, pool_filter{});
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].id == mine.id);

  CHECK(f.pools.get(admin, mine.id));
  CHECK(code_of(f.pools.get(admin, other.id).error()) == errc::not_found);
  pool_fields rename;
  rename.name = "Taken over";
  CHECK(code_of(f.pools.update(admin, other.id, rename).error()) == errc::not_found);
  CHECK(code_of(f.pools.disable(admin, other.id).error()) == errc::not_found);
  CHECK(f.pools.get(f.owner, other.id)->name == "Other");
  auto renamed = f.pools.update(admin, mine.id, rename);
  REQUIRE(renamed);
  CHECK(renamed->name == "Taken over");
  CHECK(code_of(f.pools.create(admin, named("New")).error()) == errc::forbidden);

  principal nobody;
  CHECK(code_of(f.pools.list(nobody, pool_filter{}).error()) == errc::unauthenticated);
  CHECK(code_of(f.pools.create(nobody, named("New")).error()) == errc::unauthenticated);

  auto owners_key = f.make_key(other.id, "other key");
  api_key_fields in_other;
  in_other.pool_id = other.id;
  in_other.display_name = "sneaky";
  auto denied = f.keys.create(admin, in_other);
  REQUIRE_FALSE(denied);
  CHECK(code_of(denied.error()) == errc::forbidden);
  CHECK(code_of(f.keys.get(admin, owners_key.key.id).error()) == errc::not_found);
  CHECK(code_of(f.keys.revoke(admin, owners_key.key.id).error()) == errc::not_found);
  api_key_fields in_mine;
  in_mine.pool_id = mine.id;
  in_mine.display_name = "mine";
  auto own_key = f.keys.create(admin, in_mine);
  REQUIRE(own_key);
  auto keys = f.keys.list(admin, api_key_filter{});
  REQUIRE(keys);
  REQUIRE(keys->items.size() == 1);
  CHECK(keys->items[0].id == own_key->key.id);
  CHECK(f.keys.list(f.owner, api_key_filter{})->items.size() == 2);
  CHECK(f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api_key.create' AND actor_id = '"
                + admin.operator_id + "' AND pool_id = '" + mine.id + "'")
        == 1);

  {
    // The CLI acts with owner rights.
    principal cli;
    cli.type = principal::kind::cli;
    auto made = f.pools.create(cli, named("From CLI"));
    REQUIRE(made);
    CHECK(f.count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'pool.create' AND actor_type = 'cli'")
          == 1);
  }
}

TEST_CASE("a pool api key is returned once and only its prefix and keyed hash are stored",
          "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto pool = f.make_pool("Keys");
  api_key_fields fields;
  fields.pool_id = pool.id;
  fields.display_name = "deploy bot";
  fields.policy = api_key_policy{};
  fields.policy->allowed_models = std::vector<std::string>{"gpt-5", "gpt-5-codex"};
  fields.policy->enforced_model = "gpt-5-codex";
  fields.policy->max_reasoning_effort = "high";
  fields.policy->max_requests_per_minute = 30;
  fields.policy->max_tokens_per_day = 1'000'000;
  fields.policy->max_tokens_per_week = 5'000'000'000LL;
  auto created = f.keys.create(f.owner, fields);
  REQUIRE(created);
  const auto& raw = created->raw_key.expose();
  auto parsed = parse_api_key(raw);
  REQUIRE(parsed);
  CHECK(parsed->prefix == created->key.key_prefix);
  const auto secret_part = raw.substr(parsed->prefix.size() + 1);
  CHECK(secret_part.size() == 43);
  CHECK(created->key.status == "active");
  CHECK(created->key.revocation_epoch == 0);
  CHECK(created->key.policy.max_tokens_per_week == 5'000'000'000LL);

  const auto view_json = to_json(created->key).dump();
  CHECK(view_json.find(secret_part) == std::string::npos);

  auto stored = f.keys.get(f.owner, created->key.id);
  REQUIRE(stored);
  CHECK(stored->policy.allowed_models == fields.policy->allowed_models);
  CHECK(stored->policy.enforced_model == "gpt-5-codex");
  CHECK(stored->policy.max_reasoning_effort == "high");
  CHECK_FALSE(stored->policy.enforced_reasoning_effort);
  CHECK(stored->policy.max_requests_per_minute == 30);
  CHECK(stored->policy.max_tokens_per_day == 1'000'000);
  CHECK(stored->policy.max_tokens_per_week == 5'000'000'000LL);

  for (const auto* table : {"api_keys", "audit_events"}) {
    for (const auto& cell : f.text_cells(table)) {
      CAPTURE(table, cell);
      CHECK(cell.find(raw) == std::string::npos);
      CHECK(cell.find(secret_part) == std::string::npos);
    }
  }
  const auto stored_hash =
    persistence::api_key_repository{f.database.db()}.get(created->key.id)->key_hash;
  CHECK(stored_hash == persistence::hmac_sha256(f.context.api_key_hash_key, raw));
  CHECK(stored_hash != persistence::sha256_hex(raw));

  auto authenticated = f.authenticator.authenticate(raw);
  REQUIRE(authenticated);
  CHECK(authenticated->key.id == created->key.id);
  CHECK(authenticated->key.pool_id == pool.id);
  CHECK(authenticated->key.policy.enforced_model == "gpt-5-codex");

  SECTION("a wrong secret behind the right prefix is invalid") {
    auto tampered = raw;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    CHECK(code_of(f.authenticator.authenticate(tampered).error()) == errc::api_key_invalid);
    const auto other_secret = created->key.key_prefix + "-" + to_base64url(random_bytes(32));
    CHECK(code_of(f.authenticator.authenticate(other_secret).error()) == errc::api_key_invalid);
  }
  SECTION("missing, malformed and unknown keys are told apart") {
    CHECK(code_of(f.authenticator.authenticate("").error()) == errc::api_key_missing);
    CHECK(code_of(f.authenticator.authenticate("Bearer nonsense").error())
          == errc::api_key_invalid);
    const auto unknown = "sk-cxp-" + to_hex(random_bytes(6)) + "-" + to_base64url(random_bytes(32));
    CHECK(code_of(f.authenticator.authenticate(unknown).error()) == errc::api_key_invalid);
  }
  SECTION("a key's pool must exist and be manageable") {
    api_key_fields orphan;
    orphan.pool_id = new_uuid();
    orphan.display_name = "orphan";
    auto rejected = f.keys.create(f.owner, orphan);
    REQUIRE_FALSE(rejected);
    CHECK(field_errors_of(rejected.error()).count("pool_id") == 1);
    auto unnamed = f.keys.create(f.owner, key_fields(pool.id, std::nullopt));
    REQUIRE_FALSE(unnamed);
    CHECK(field_errors_of(unnamed.error()).count("display_name") == 1);
  }
}

TEST_CASE("paused, revoked, expired keys and keys of disabled pools are inactive",
          "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto pool = f.make_pool("Lifecycle");
  auto key = f.make_key(pool.id);
  const auto& raw = key.raw_key.expose();
  REQUIRE(f.authenticator.authenticate(raw));

  SECTION("pause and resume") {
    auto paused = f.keys.pause(f.owner, key.key.id);
    REQUIRE(paused);
    CHECK(paused->status == "paused");
    CHECK(paused->revocation_epoch == 1);
    CHECK(code_of(f.authenticator.authenticate(raw).error()) == errc::api_key_inactive);
    CHECK(f.keys.pause(f.owner, key.key.id)->revocation_epoch == 1);
    auto resumed = f.keys.resume(f.owner, key.key.id);
    REQUIRE(resumed);
    CHECK(resumed->status == "active");
    CHECK(resumed->revocation_epoch == 1);
    CHECK(f.authenticator.authenticate(raw));
    CHECK(f.audits("api_key.pause") == 1);
    CHECK(f.audits("api_key.resume") == 1);
  }
  SECTION("revocation is terminal") {
    auto revoked = f.keys.revoke(f.owner, key.key.id);
    REQUIRE(revoked);
    CHECK(revoked->status == "revoked");
    CHECK(revoked->revoked_at);
    CHECK(revoked->revocation_epoch == 1);
    CHECK(code_of(f.authenticator.authenticate(raw).error()) == errc::api_key_inactive);
    CHECK(code_of(f.keys.resume(f.owner, key.key.id).error()) == errc::conflict);
    CHECK(code_of(f.keys.rotate(f.owner, key.key.id).error()) == errc::conflict);
    CHECK(code_of(f.keys.update(f.owner, key.key.id, key_fields(std::nullopt, "x")).error())
          == errc::conflict);
    CHECK(f.keys.revoke(f.owner, key.key.id));
    CHECK(f.audits("api_key.revoke") == 1);
  }
  SECTION("expiry follows the clock") {
    api_key_fields expiring;
    expiring.pool_id = pool.id;
    expiring.display_name = "temporary";
    expiring.expires_at = to_iso8601(f.clock.now() + 1h);
    auto temporary = f.keys.create(f.owner, expiring);
    REQUIRE(temporary);
    CHECK(f.authenticator.authenticate(temporary->raw_key.expose()));
    f.clock.advance(2h);
    CHECK(code_of(f.authenticator.authenticate(temporary->raw_key.expose()).error())
          == errc::api_key_inactive);
    CHECK(f.authenticator.authenticate(raw));

    expiring.expires_at = to_iso8601(f.clock.now() - 1s);
    auto past = f.keys.create(f.owner, expiring);
    REQUIRE_FALSE(past);
    CHECK(field_errors_of(past.error()).count("expires_at") == 1);

    api_key_fields extend;
    extend.expires_at = to_iso8601(f.clock.now() + 24h);
    REQUIRE(f.keys.update(f.owner, temporary->key.id, extend));
    CHECK(f.authenticator.authenticate(temporary->raw_key.expose()));
    api_key_fields forever;
    forever.cleared.emplace(cleared_expires_at);
    auto unexpiring = f.keys.update(f.owner, temporary->key.id, forever);
    REQUIRE(unexpiring);
    CHECK_FALSE(unexpiring->expires_at);
  }
  SECTION("a disabled pool disables its keys") {
    REQUIRE(f.pools.disable(f.owner, pool.id));
    CHECK(code_of(f.authenticator.authenticate(raw).error()) == errc::api_key_inactive);
    REQUIRE(f.pools.enable(f.owner, pool.id));
    CHECK(f.authenticator.authenticate(raw));
  }
}

TEST_CASE("rotating a key invalidates the old raw key", "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto pool = f.make_pool("Rotation");
  auto key = f.make_key(pool.id);
  const auto old_raw = key.raw_key.expose();
  REQUIRE(f.authenticator.authenticate(old_raw));

  auto rotated = f.keys.rotate(f.owner, key.key.id);
  REQUIRE(rotated);
  const auto& new_raw = rotated->raw_key.expose();
  CHECK(new_raw != old_raw);
  CHECK(rotated->key.id == key.key.id);
  CHECK(rotated->key.key_prefix != key.key.key_prefix);
  CHECK(rotated->key.revocation_epoch == key.key.revocation_epoch + 1);
  CHECK(parse_api_key(new_raw)->prefix == rotated->key.key_prefix);
  CHECK(code_of(f.authenticator.authenticate(old_raw).error()) == errc::api_key_invalid);
  auto authenticated = f.authenticator.authenticate(new_raw);
  REQUIRE(authenticated);
  CHECK(authenticated->key.id == key.key.id);
  CHECK(f.keys.get(f.owner, key.key.id)->key_prefix == rotated->key.key_prefix);
  CHECK(f.audits("api_key.rotate") == 1);
  for (const auto& cell : f.text_cells("audit_events")) {
    CHECK(cell.find(new_raw.substr(20)) == std::string::npos);
    CHECK(cell.find(old_raw.substr(20)) == std::string::npos);
  }
}

TEST_CASE("last_used_at is written at most once a minute", "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto pool = f.make_pool("Debounce");
  auto key = f.make_key(pool.id);
  const auto& raw = key.raw_key.expose();
  CHECK_FALSE(f.stored_last_used(key.key.id));

  const auto first_at = to_iso8601(f.clock.now());
  auto first = f.authenticator.authenticate(raw);
  REQUIRE(first);
  CHECK(first->key.last_used_at == first_at);
  CHECK(f.stored_last_used(key.key.id) == first_at);

  f.clock.advance(30s);
  REQUIRE(f.authenticator.authenticate(raw));
  CHECK(f.stored_last_used(key.key.id) == first_at);
  persistence::api_key_repository repository{f.database.db()};
  auto written = repository.touch_last_used(key.key.id, f.clock.now());
  REQUIRE(written);
  CHECK_FALSE(*written);

  f.clock.advance(31s);
  const auto later_at = to_iso8601(f.clock.now());
  REQUIRE(f.authenticator.authenticate(raw));
  CHECK(f.stored_last_used(key.key.id) == later_at);
  CHECK(f.audits("api_key.update") == 0);
}

TEST_CASE("key updates merge the policy, validate it whole and write one audit event each",
          "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto pool = f.make_pool("Policies");
  auto key = f.make_key(pool.id);

  auto body = nlohmann::json::parse(R"({"display_name": "renamed", "policy": {
    "allowed_models": ["gpt-5"], "enforced_reasoning_effort": "low", "max_tokens_per_day": 10}})");
  auto fields = parse_api_key_fields(body);
  REQUIRE(fields);
  auto updated = f.keys.update(f.owner, key.key.id, *fields);
  REQUIRE(updated);
  CHECK(updated->display_name == "renamed");
  CHECK(updated->policy.allowed_models == std::vector<std::string>{"gpt-5"});
  CHECK(updated->policy.enforced_reasoning_effort == "low");
  CHECK(updated->policy.max_tokens_per_day == 10);

  auto conflicting =
    parse_api_key_fields(nlohmann::json::parse(R"({"policy": {"max_reasoning_effort": "high"}})"));
  REQUIRE(conflicting);
  auto rejected = f.keys.update(f.owner, key.key.id, *conflicting);
  REQUIRE_FALSE(rejected);
  CHECK(field_errors_of(rejected.error()).count("policy.enforced_reasoning_effort") == 1);

  auto outside =
    parse_api_key_fields(nlohmann::json::parse(R"({"policy": {"enforced_model": "gpt-4.1"}})"));
  REQUIRE(outside);
  CHECK(field_errors_of(f.keys.update(f.owner, key.key.id, *outside).error())
          .count("policy.enforced_model")
        == 1);

  auto swap = parse_api_key_fields(nlohmann::json::parse(
    R"({"policy": {"enforced_reasoning_effort": null, "max_reasoning_effort": "high"}})"));
  REQUIRE(swap);
  auto swapped = f.keys.update(f.owner, key.key.id, *swap);
  REQUIRE(swapped);
  CHECK(swapped->policy.max_reasoning_effort == "high");
  CHECK_FALSE(swapped->policy.enforced_reasoning_effort);
  CHECK(swapped->policy.max_tokens_per_day == 10);

  auto open_up = parse_api_key_fields(nlohmann::json::parse(R"({"policy": null})"));
  REQUIRE(open_up);
  auto opened = f.keys.update(f.owner, key.key.id, *open_up);
  REQUIRE(opened);
  CHECK_FALSE(opened->policy.allowed_models);
  CHECK_FALSE(opened->policy.max_reasoning_effort);
  CHECK_FALSE(opened->policy.max_tokens_per_day);
  CHECK(f.keys.update(f.owner, key.key.id, *open_up)); // nothing left to change: no event

  auto move =
    f.keys.update(f.owner, key.key.id, key_fields(f.make_pool("Elsewhere").id, std::nullopt));
  REQUIRE_FALSE(move);
  CHECK(field_errors_of(move.error()).count("pool_id") == 1);

  CHECK(f.audits("api_key.create") == 1);
  CHECK(f.audits("api_key.update") == 3);
  CHECK(f.count("SELECT COUNT(*) FROM audit_events") == 2 + 1 + 3);
}

TEST_CASE("keys are listed by pool and status with keyset pages", "[integration][pools]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto a = f.make_pool("A");
  const auto b = f.make_pool("B");
  std::vector<std::string> in_a;
  for (int i = 0; i < 3; ++i) {
    f.clock.advance(1s);
    in_a.push_back(f.make_key(a.id, "a" + std::to_string(i)).key.id);
  }
  f.make_key(b.id, "b");
  REQUIRE(f.keys.pause(f.owner, in_a[1]));

  api_key_filter by_pool;
  by_pool.pool_id = a.id;
  by_pool.page.limit = 2;
  auto page1 = f.keys.list(f.owner, by_pool);
  REQUIRE(page1);
  REQUIRE(page1->items.size() == 2);
  CHECK(page1->items[0].id == in_a[0]);
  CHECK(page1->items[1].id == in_a[1]);
  REQUIRE(page1->next_cursor);
  by_pool.page.cursor = page1->next_cursor;
  auto page2 = f.keys.list(f.owner, by_pool);
  REQUIRE(page2);
  REQUIRE(page2->items.size() == 1);
  CHECK(page2->items[0].id == in_a[2]);
  CHECK_FALSE(page2->next_cursor);

  api_key_filter paused;
  paused.status = "paused";
  auto only_paused = f.keys.list(f.owner, paused);
  REQUIRE(only_paused);
  REQUIRE(only_paused->items.size() == 1);
  CHECK(only_paused->items[0].id == in_a[1]);

  api_key_filter bad;
  bad.status = "deleted";
  CHECK(code_of(f.keys.list(f.owner, bad).error()) == errc::validation_failed);
  bad.status.reset();
  bad.page.cursor = "nonsense";
  CHECK(code_of(f.keys.list(f.owner, bad).error()) == errc::validation_failed);
}
