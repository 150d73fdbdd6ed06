#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/accounts/auth_json.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/db/row_reader.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using namespace cxp::domain;
using nlohmann::json;
using test::backend;

namespace {

persistence::keyring make_ring(const std::string& version, char fill,
                               std::vector<persistence::versioned_key> old = {}) {
  auto ring = persistence::keyring::make({version, secret<std::string>{std::string(32, fill)}},
                                         std::move(old));
  REQUIRE(ring);
  return std::move(*ring);
}

persistence::versioned_key key_of(const std::string& version, char fill) {
  return {version, secret<std::string>{std::string(32, fill)}};
}

/// A service over `db` with its own keyring, so tests can build a second one with other keys.
struct service_under_test {
  service_under_test(persistence::database& db, const cxp::clock& time, persistence::keyring ring)
      : upstream(std::move(ring)),
        totp(make_ring("v1", 't')),
        context{db,
                time,
                upstream,
                totp,
                secret<std::string>{"api-key-hash-key"},
                secret<std::string>{"token-key"}},
        service(context) {}

  persistence::keyring upstream;
  persistence::keyring totp;
  service_context context;
  account_service service;
};

struct fixture {
  explicit fixture(backend kind) : database(kind) {}

  std::unique_ptr<service_under_test> with_keys(persistence::keyring ring) {
    return std::make_unique<service_under_test>(database.db(), clock, std::move(ring));
  }

  void exec(const std::string& statement) {
    REQUIRE(database.db().run([&](soci::session& sql) { sql << statement; }));
  }

  std::string add_pool(const std::string& slug) {
    const auto id = new_uuid();
    const auto now = to_iso8601(clock.now());
    exec("INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES ('" + id + "', '" + slug
         + "', '" + slug + "', '" + now + "', '" + now + "')");
    return id;
  }

  std::string add_operator(const std::string& role) {
    const auto id = new_uuid();
    const auto now = to_iso8601(clock.now());
    exec("INSERT INTO operators (id, email, display_name, role, created_at, updated_at) VALUES ('"
         + id + "', '" + id + "@example.com', 'op', '" + role + "', '" + now + "', '" + now + "')");
    return id;
  }

  int64_t count(const std::string& query) {
    auto result = database.db().run([&](soci::session& sql) {
      soci::rowset<soci::row> rows = sql.prepare << query;
      return persistence::row_reader{*rows.begin()}.int64(0);
    });
    REQUIRE(result);
    return *result;
  }

  int64_t audit_count(const std::string& action) {
    return count("SELECT COUNT(*) FROM audit_events WHERE action = '" + action
                 + "' AND outcome = 'success'");
  }

  /// Every text value of every row of `table`.
  std::vector<std::string> text_values(const std::string& table) {
    auto result = database.db().run([&](soci::session& sql) {
      std::vector<std::string> values;
      soci::rowset<soci::row> rows = sql.prepare << "SELECT * FROM " + table;
      for (const auto& row : rows) {
        for (size_t i = 0; i < row.size(); ++i) {
          if (row.get_indicator(i) == soci::i_ok
              && row.get_properties(i).get_data_type() == soci::dt_string) {
            values.push_back(row.get<std::string>(i));
          }
        }
      }
      return values;
    });
    REQUIRE(result);
    return *result;
  }

  test::test_database database;
  manual_clock clock;
};

/// One distinct ChatGPT login with random tokens.
struct login {
  std::string account_id = "acct-" + to_hex(random_bytes(6));
  std::string email = to_hex(random_bytes(4)) + "@example.com";
  std::string id_token;
  std::string access_token;
  std::string refresh_token = "rt-" + to_hex(random_bytes(16));

  login() { rebuild(); }

  static std::string jwt(const json& payload) {
    return to_base64url(json{{"alg", "RS256"}}.dump()) + "." + to_base64url(payload.dump()) + "."
           + to_base64url(random_bytes(32));
  }

  void rebuild() {
    id_token = jwt({{"email", email},
                    {std::string{openai_auth_claim},
                     {{"chatgpt_account_id", account_id},
                      {"chatgpt_plan_type", "pro"},
                      {"chatgpt_user_id", "user-1"}}}});
    access_token = jwt({{"exp", 1'900'000'000}, {"nonce", to_hex(random_bytes(16))}});
  }

  std::string text() const {
    return json{
      {"auth_mode", "chatgpt"},
      {"OPENAI_API_KEY", nullptr},
      {"tokens",
       {{"id_token", id_token}, {"access_token", access_token}, {"refresh_token", refresh_token}}},
      {"last_refresh", "2026-11-20T00:00:00Z"}}
      .dump();
  }
};

const principal cli{principal::kind::cli, "", "", {}, ""};

principal admin_of(const std::string& operator_id, std::vector<std::string> pools) {
  return principal{principal::kind::operator_session, operator_id, "instance_admin",
                   std::move(pools), "10.0.0.1"};
}

account_view import_ok(account_service& service, const login& who,
                       std::vector<std::string> pools = {},
                       std::optional<std::string> label = std::nullopt) {
  auto result = service.import_auth_json(cli, {who.text(), std::move(label), std::move(pools)});
  if (!result) {
    FAIL(context_of(result.error()));
  }
  return result->account;
}

errc code_of(const caf::error& error) {
  return to_errc(error);
}

} // namespace

TEST_CASE("an imported account is stored encrypted and viewed without tokens",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto pool = f.add_pool("main");
  const auto owner_id = f.add_operator("instance_owner");
  const principal owner{
    principal::kind::operator_session, owner_id, "instance_owner", {}, "127.0.0.1"};
  login user;

  auto imported = s->service.import_auth_json(owner, {user.text(), std::string{"work"}, {pool}});
  REQUIRE(imported);
  CHECK(imported->created);
  const auto& view = imported->account;
  CHECK(view.chatgpt_account_id == user.account_id);
  CHECK(view.chatgpt_user_id == "user-1");
  CHECK(view.email == user.email);
  CHECK(view.plan_type == "pro");
  CHECK(view.label == "work");
  CHECK(view.status == "active");
  CHECK(view.onboarding_method == "import");
  CHECK(view.secret_key_version == "v1");
  CHECK(view.access_token_expires_at
        == to_iso8601(time_point{std::chrono::seconds{1'900'000'000}}));
  CHECK(view.last_refresh_at == "2026-11-20T00:00:00.000000Z");
  CHECK(view.pool_ids == std::vector<std::string>{pool});

  const auto rendered = to_json(*imported).dump();
  for (const auto& token : {user.access_token, user.refresh_token, user.id_token}) {
    CHECK(rendered.find(token) == std::string::npos);
    for (const auto& table : {"upstream_accounts", "pool_accounts", "audit_events"}) {
      for (const auto& value : f.text_values(table)) {
        CHECK(value.find(token) == std::string::npos);
      }
    }
  }

  auto credentials = s->service.decrypt_credentials(view.id);
  REQUIRE(credentials);
  CHECK(credentials->access_token.expose() == user.access_token);
  CHECK(credentials->refresh_token.expose() == user.refresh_token);
  CHECK(credentials->chatgpt_account_id == user.account_id);
  CHECK(f.audit_count("upstream_account.import") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM audit_events WHERE actor_id = '" + owner_id
                + "' AND target_id = '" + view.id + "' AND pool_id = '" + pool + "'")
        == 1);

  auto fetched = s->service.get(owner, view.id);
  REQUIRE(fetched);
  CHECK(to_json(*fetched) == to_json(view));
  CHECK(code_of(s->service.decrypt_credentials(new_uuid()).error()) == errc::not_found);
  CHECK(code_of(s->service.import_auth_json(cli, {user.text(), std::nullopt, {new_uuid()}}).error())
        == errc::not_found);
}

TEST_CASE("re-importing the same identity updates its tokens instead of duplicating it",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto first_pool = f.add_pool("first");
  const auto second_pool = f.add_pool("second");
  login user;
  const auto first = import_ok(s->service, user, {first_pool}, std::string{"kept"});
  f.exec("UPDATE upstream_accounts SET status = 'reauth_required' WHERE id = '" + first.id + "'");

  user.refresh_token = "rt-" + to_hex(random_bytes(16));
  user.rebuild();
  f.clock.advance(std::chrono::seconds{5});
  auto again = s->service.import_auth_json(cli, {user.text(), std::nullopt, {second_pool}});
  REQUIRE(again);
  CHECK_FALSE(again->created);
  CHECK(again->account.id == first.id);
  CHECK(again->account.status == "active");
  CHECK(again->account.label == "kept");
  CHECK(again->account.pool_ids
        == std::vector<std::string>{std::min(first_pool, second_pool),
                                    std::max(first_pool, second_pool)});
  CHECK(again->account.updated_at != first.updated_at);
  CHECK(f.count("SELECT COUNT(*) FROM upstream_accounts") == 1);
  auto credentials = s->service.decrypt_credentials(first.id);
  REQUIRE(credentials);
  CHECK(credentials->refresh_token.expose() == user.refresh_token);
  CHECK(credentials->access_token.expose() == user.access_token);
  CHECK(f.audit_count("upstream_account.import") == 2);

  REQUIRE(s->service.pause(cli, first.id));
  auto paused_again = s->service.import_auth_json(cli, {user.text(), std::nullopt, {}});
  REQUIRE(paused_again);
  CHECK(paused_again->account.status == "paused");
}

TEST_CASE("decrypting with a key version the keyring lacks, or a ciphertext from another row, "
          "fails cleanly",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto first = import_ok(s->service, login{});
  const auto second = import_ok(s->service, login{});

  auto other = f.with_keys(make_ring("v2", 'b'));
  auto wrong_version = other->service.decrypt_credentials(first.id);
  REQUIRE_FALSE(wrong_version);
  CHECK(code_of(wrong_version.error()) == errc::decryption_failed);

  auto same_version_other_key = f.with_keys(make_ring("v1", 'z'));
  auto wrong_key = same_version_other_key->service.decrypt_credentials(first.id);
  REQUIRE_FALSE(wrong_key);
  CHECK(code_of(wrong_key.error()) == errc::decryption_failed);

  f.exec(
    "UPDATE upstream_accounts SET access_token_ciphertext = (SELECT access_token_ciphertext FROM "
    "upstream_accounts WHERE id = '"
    + first.id + "') WHERE id = '" + second.id + "'");
  auto swapped = s->service.decrypt_credentials(second.id);
  REQUIRE_FALSE(swapped);
  CHECK(code_of(swapped.error()) == errc::decryption_failed);
  CHECK(s->service.decrypt_credentials(first.id));
}

TEST_CASE("key rotation re-encrypts every row with the new version and keeps the tokens readable",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto v1 = f.with_keys(make_ring("v1", 'a'));
  std::vector<login> users(3);
  std::vector<std::string> ids;
  for (const auto& user : users) {
    ids.push_back(import_ok(v1->service, user).id);
  }

  auto lacking = f.with_keys(make_ring("v3", 'c'));
  auto failed = lacking->service.rotate_keys(cli);
  REQUIRE_FALSE(failed);
  CHECK(code_of(failed.error()) == errc::decryption_failed);
  CHECK(f.count("SELECT COUNT(*) FROM upstream_accounts WHERE secret_key_version = 'v1'") == 3);
  CHECK(f.count("SELECT COUNT(*) FROM audit_events WHERE action = 'upstream_account.rotate_keys' "
                "AND outcome = "
                "'failure'")
        == 1);

  auto v2 = f.with_keys(make_ring("v2", 'b', {key_of("v1", 'a')}));
  CHECK(code_of(v2->service.rotate_keys(admin_of(f.add_operator("instance_admin"), {})).error())
        == errc::forbidden);
  auto rotated = v2->service.rotate_keys(cli);
  REQUIRE(rotated);
  CHECK(*rotated == users.size());
  CHECK(f.count("SELECT COUNT(*) FROM upstream_accounts WHERE secret_key_version = 'v2' AND "
                "access_token_ciphertext LIKE 'v2.%' AND refresh_token_ciphertext LIKE 'v2.%'")
        == 3);
  CHECK(f.audit_count("upstream_account.rotate_keys") == 1);

  auto v2_only = f.with_keys(make_ring("v2", 'b'));
  for (size_t i = 0; i < users.size(); ++i) {
    auto credentials = v2_only->service.decrypt_credentials(ids[i]);
    REQUIRE(credentials);
    CHECK(credentials->access_token.expose() == users[i].access_token);
    CHECK(credentials->refresh_token.expose() == users[i].refresh_token);
    CHECK(code_of(v1->service.decrypt_credentials(ids[i]).error()) == errc::decryption_failed);
  }
  auto again = v2->service.rotate_keys(cli);
  REQUIRE(again);
  CHECK(*again == 0);
}

TEST_CASE("an instance_admin sees and changes only accounts of its pools",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto mine = f.add_pool("mine");
  const auto theirs = f.add_pool("theirs");
  const auto admin = admin_of(f.add_operator("instance_admin"), {mine});
  const auto in_mine = import_ok(s->service, login{}, {mine});
  const auto in_theirs = import_ok(s->service, login{}, {theirs});
  const auto in_both = import_ok(s->service, login{}, {mine, theirs});
  import_ok(s->service, login{});

  auto page = s->service.list(admin, {});
  REQUIRE(page);
  std::set<std::string> seen;
  for (const auto& item : page->items) {
    seen.insert(item.id);
    CHECK(item.pool_ids == std::vector<std::string>{mine});
  }
  CHECK(seen == std::set<std::string>{in_mine.id, in_both.id});
  CHECK(s->service.list(cli, {})->items.size() == 4);

  CHECK(code_of(s->service.get(admin, in_theirs.id).error()) == errc::forbidden);
  CHECK(code_of(s->service.pause(admin, in_theirs.id).error()) == errc::forbidden);
  CHECK(code_of(s->service.update_label(admin, in_theirs.id, std::string{"x"}).error())
        == errc::forbidden);
  account_filter other_pool;
  other_pool.pool_id = theirs;
  CHECK(code_of(s->service.list(admin, other_pool).error()) == errc::forbidden);
  CHECK(code_of(s->service.import_auth_json(admin, {login{}.text(), std::nullopt, {mine}}).error())
        == errc::forbidden);
  CHECK(code_of(s->service.remove(admin, in_mine.id).error()) == errc::forbidden);
  CHECK(code_of(s->service.assign(admin, in_mine.id, mine).error()) == errc::forbidden);
  CHECK(code_of(s->service.get(principal{}, in_mine.id).error()) == errc::forbidden);

  auto paused = s->service.pause(admin, in_both.id);
  REQUIRE(paused);
  CHECK(paused->status == "paused");
  CHECK(
    f.count(
      "SELECT COUNT(*) FROM audit_events WHERE action = 'upstream_account.pause' AND pool_id = '"
      + mine + "' AND actor_id = '" + admin.operator_id + "'")
    == 1);
  REQUIRE(s->service.resume(admin, in_both.id));
  CHECK(s->service.get(admin, in_mine.id));
}

TEST_CASE("a bulk import reports the bad item and imports the rest", "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto pool = f.add_pool("bulk");
  login first;
  login second;
  const auto bundle = json::array({json::parse(first.text()),
                                   {{"OPENAI_API_KEY", "sk-bulk-secret"}},
                                   json::parse(second.text())});
  auto items = split_auth_json_bundle(bundle.dump());
  REQUIRE(items);
  std::vector<std::pair<size_t, size_t>> progress;
  const auto results = s->service.import_many(
    cli, *items, {pool}, [&](size_t done, size_t total) { progress.emplace_back(done, total); });

  REQUIRE(results.size() == 3);
  CHECK(results[0].account);
  CHECK(results[2].account);
  CHECK(results[1].source == "[1]");
  CHECK_FALSE(results[1].account);
  CHECK(results[1].error_code == "validation_failed");
  REQUIRE(results[1].error_message);
  CHECK(results[1].error_message->find("OPENAI_API_KEY") != std::string::npos);
  CHECK(results[1].error_message->find("sk-bulk-secret") == std::string::npos);
  CHECK(to_json(results[1])["error"]["code"] == "validation_failed");
  CHECK(progress == std::vector<std::pair<size_t, size_t>>{{1, 3}, {2, 3}, {3, 3}});
  CHECK(f.count("SELECT COUNT(*) FROM pool_accounts WHERE pool_id = '" + pool + "'") == 2);
  CHECK(f.audit_count("upstream_account.import") == 2);

  const auto denied =
    s->service.import_many(admin_of(f.add_operator("instance_admin"), {pool}), *items, {pool});
  REQUIRE(denied.size() == 3);
  CHECK(denied[0].error_code == "forbidden");
}

TEST_CASE("status, label, assignment and deletion changes are validated and audited",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto pool = f.add_pool("ops");
  const auto account = import_ok(s->service, login{});

  auto paused = s->service.pause(cli, account.id);
  REQUIRE(paused);
  CHECK(paused->status == "paused");
  CHECK(s->service.pause(cli, account.id));
  CHECK(f.audit_count("upstream_account.pause") == 1);
  auto resumed = s->service.resume(cli, account.id);
  REQUIRE(resumed);
  CHECK(resumed->status == "active");
  CHECK(f.audit_count("upstream_account.resume") == 1);

  f.exec("UPDATE upstream_accounts SET status = 'reauth_required' WHERE id = '" + account.id + "'");
  CHECK(code_of(s->service.resume(cli, account.id).error()) == errc::conflict);
  CHECK(code_of(s->service.pause(cli, account.id).error()) == errc::conflict);
  f.exec("UPDATE upstream_accounts SET status = 'active' WHERE id = '" + account.id + "'");

  auto labelled = s->service.update_label(cli, account.id, std::string{"primary"});
  REQUIRE(labelled);
  CHECK(labelled->label == "primary");
  CHECK(code_of(s->service.update_label(cli, account.id, std::string(201, 'x')).error())
        == errc::validation_failed);
  auto cleared = s->service.update_label(cli, account.id, std::nullopt);
  REQUIRE(cleared);
  CHECK_FALSE(cleared->label);
  CHECK(f.audit_count("upstream_account.update") == 2);

  CHECK(code_of(s->service.assign(cli, account.id, new_uuid()).error()) == errc::not_found);
  CHECK(code_of(s->service.assign(cli, new_uuid(), pool).error()) == errc::not_found);
  CHECK(code_of(s->service.get(cli, "not-a-uuid").error()) == errc::not_found);
  CHECK(f.count("SELECT COUNT(*) FROM jobs") == 0);
  auto assigned = s->service.assign(cli, account.id, pool);
  REQUIRE(assigned);
  CHECK(assigned->pool_ids == std::vector<std::string>{pool});
  CHECK(s->service.assign(cli, account.id, pool));
  CHECK(f.audit_count("upstream_account.assign") == 1);
  // The pool's catalog changed: one sync of it is queued at once, however many changes follow
  // before a worker takes it.
  const auto queued_syncs = "SELECT COUNT(*) FROM jobs WHERE kind = 'catalog_sync' AND pool_id = '"
                            + pool + "' AND status = 'queued' AND origin = 'account_change'";
  CHECK(f.count(queued_syncs) == 1);
  REQUIRE(s->service.pause(cli, account.id));
  REQUIRE(s->service.resume(cli, account.id));
  CHECK(f.count(queued_syncs) == 1);
  f.exec("UPDATE jobs SET status = 'succeeded'");
  auto unassigned = s->service.unassign(cli, account.id, pool);
  REQUIRE(unassigned);
  CHECK(unassigned->pool_ids.empty());
  CHECK(f.audit_count("upstream_account.unassign") == 1);
  CHECK(f.count(queued_syncs) == 1);

  REQUIRE(s->service.assign(cli, account.id, pool));
  REQUIRE(s->service.remove(cli, account.id));
  CHECK(code_of(s->service.get(cli, account.id).error()) == errc::not_found);
  CHECK(code_of(s->service.remove(cli, account.id).error()) == errc::not_found);
  CHECK(f.count("SELECT COUNT(*) FROM pool_accounts") == 0);
  CHECK(f.audit_count("upstream_account.delete") == 1);
}

TEST_CASE("listing filters by pool, status and search and pages with a cursor",
          "[integration][accounts]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  auto s = f.with_keys(make_ring("v1", 'a'));
  const auto pool = f.add_pool("listing");
  std::set<std::string> all;
  for (int i = 0; i < 5; ++i) {
    login user;
    user.email = "user" + std::to_string(i) + "@example.com";
    user.rebuild();
    all.insert(import_ok(s->service, user,
                         i % 2 == 0 ? std::vector<std::string>{pool} : std::vector<std::string>{},
                         i == 3 ? std::optional<std::string>{"Team_100%"} : std::nullopt)
                 .id);
    f.clock.advance(i == 1 ? std::chrono::seconds{0} : std::chrono::seconds{1});
  }

  std::set<std::string> paged;
  account_filter filter;
  filter.page.limit = 2;
  std::vector<size_t> sizes;
  for (;;) {
    auto page = s->service.list(cli, filter);
    REQUIRE(page);
    sizes.push_back(page->items.size());
    for (const auto& item : page->items) {
      CHECK(paged.insert(item.id).second);
    }
    if (!page->next_cursor) {
      break;
    }
    filter.page.cursor = page->next_cursor;
  }
  CHECK(paged == all);
  CHECK(sizes == std::vector<size_t>{2, 2, 1});
  CHECK(to_json(*s->service.list(cli, {})).at("next_cursor").is_null());

  account_filter by_pool;
  by_pool.pool_id = pool;
  CHECK(s->service.list(cli, by_pool)->items.size() == 3);
  account_filter by_search;
  by_search.search = "USER2@";
  REQUIRE(s->service.list(cli, by_search)->items.size() == 1);
  CHECK(s->service.list(cli, by_search)->items.front().email == "user2@example.com");
  by_search.search = "m_100%";
  CHECK(s->service.list(cli, by_search)->items.size() == 1);
  by_search.search = "m%1";
  CHECK(s->service.list(cli, by_search)->items.empty());

  const auto first = *paged.begin();
  REQUIRE(s->service.pause(cli, first));
  account_filter by_status;
  by_status.status = "paused";
  auto paused = s->service.list(cli, by_status);
  REQUIRE(paused);
  REQUIRE(paused->items.size() == 1);
  CHECK(paused->items.front().id == first);

  account_filter invalid;
  invalid.status = "sleeping";
  invalid.page.limit = 0;
  invalid.page.cursor = "garbage";
  auto rejected = s->service.list(cli, invalid);
  REQUIRE_FALSE(rejected);
  const auto fields = field_errors_of(rejected.error());
  CHECK(fields.count("status") == 1);
  CHECK(fields.count("limit") == 1);
  CHECK(fields.count("cursor") == 1);
}
