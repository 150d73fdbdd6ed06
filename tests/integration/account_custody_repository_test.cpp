#include "persistence/accounts/account_custody_repository.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "common/encoding.hpp"
#include "persistence/accounts/account_repository.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using namespace cxp::persistence;

namespace {

const auto t0 = parse_iso8601("2026-12-04T12:00:00.000000Z").value();
constexpr auto ttl = std::chrono::milliseconds{15'000};
constexpr auto claim_ttl = std::chrono::milliseconds{90'000};
constexpr const char* client = "app_test_client";

std::string insert_account(database& db) {
  const auto id = new_uuid();
  const auto at = to_iso8601(t0);
  auto inserted = db.run([&](soci::session& sql) {
    sql << "INSERT INTO upstream_accounts (id, chatgpt_account_id, secret_key_version, "
           "access_token_ciphertext, refresh_token_ciphertext, created_at, updated_at) "
           "VALUES (:id, :chatgpt, 'v1', 'sealed-access', 'sealed-refresh', :at, :at2)",
      soci::use(id), soci::use("acct-" + id.substr(0, 8)), soci::use(at), soci::use(at);
  });
  REQUIRE(inserted);
  return id;
}

refreshed_tokens tokens_for(const std::string& id, const std::string& marker) {
  return {id, "v1", "access-" + marker, "refresh-" + marker, std::nullopt, to_iso8601(t0)};
}

account_row row_of(database& db, const std::string& id) {
  auto row = account_repository{db}.find(id);
  REQUIRE(row);
  REQUIRE(*row);
  return **row;
}

} // namespace

TEST_CASE("the fenced refresh store: one claim per generation, stale results refused",
          "[integration][custody]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = database.db();
  account_custody_repository custody{db};
  const auto id = insert_account(db);

  // Node A claims generation 0; node B must wait for it, and cannot claim a stale generation.
  CHECK(custody.claim_refresh(id, client, "node-a", 0, t0, claim_ttl, 3).value()
        == refresh_claim::won);
  CHECK(custody.claim_refresh(id, client, "node-b", 0, t0, claim_ttl, 3).value()
        == refresh_claim::held);
  // A's result is stored and bumps the generation; a second result for generation 0 is refused.
  CHECK(custody.store_refreshed(tokens_for(id, "a"), 0).value());
  CHECK(row_of(db, id).token_generation == 1);
  CHECK_FALSE(custody.store_refreshed(tokens_for(id, "b"), 0).value());
  CHECK(row_of(db, id).access_token_ciphertext == "access-a");
  CHECK(custody.claim_refresh(id, client, "node-b", 0, t0, claim_ttl, 3).value()
        == refresh_claim::stale);
  // The token of generation 0 was spent: refusing it cannot mark the account, a newer one exists.
  CHECK_FALSE(custody.mark_reauth_required(id, 0, "refresh_token_reused", to_iso8601(t0)).value());
  CHECK(row_of(db, id).status == "active");
  // Generation 1 is claimable (the store cleared A's claim), and a real refusal marks it.
  CHECK(custody.claim_refresh(id, client, "node-b", 1, t0, claim_ttl, 3).value()
        == refresh_claim::won);
  CHECK(custody.mark_reauth_required(id, 1, "invalid_grant", to_iso8601(t0)).value());
  CHECK(row_of(db, id).status == "reauth_required");
}

TEST_CASE("an expired refresh claim can be taken over, and claims per OAuth client are limited",
          "[integration][custody]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = database.db();
  account_custody_repository custody{db};
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(insert_account(db));
  }
  CHECK(custody.claim_refresh(ids[0], client, "node-a", 0, t0, claim_ttl, 2).value()
        == refresh_claim::won);
  CHECK(custody.claim_refresh(ids[1], client, "node-a", 0, t0, claim_ttl, 2).value()
        == refresh_claim::won);
  CHECK(custody.claim_refresh(ids[2], client, "node-b", 0, t0, claim_ttl, 2).value()
        == refresh_claim::client_busy);
  // Another client is not limited by this one's claims.
  CHECK(custody.claim_refresh(ids[2], "other_client", "node-b", 0, t0, claim_ttl, 2).value()
        == refresh_claim::won);
  // A transient failure releases the claim; an abandoned one expires.
  REQUIRE(custody.release_claim(ids[0], "node-a"));
  CHECK(custody.claim_refresh(ids[0], client, "node-b", 0, t0, claim_ttl, 3).value()
        == refresh_claim::won);
  CHECK(custody.claim_refresh(ids[1], client, "node-b", 0, t0 + claim_ttl, claim_ttl, 3).value()
        == refresh_claim::won);
}

TEST_CASE("ownership leases: taken when free, renewed by the holder, released when no longer "
          "its own, taken over after expiry, handed off on drain",
          "[integration][custody]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = database.db();
  account_custody_repository custody{db};
  const auto first = insert_account(db);
  const auto second = insert_account(db);

  auto held = custody.settle({"node-a", {first, second}}, t0, ttl);
  REQUIRE(held);
  CHECK(held->size() == 2);
  // B wants the second account too, but A's lease is live.
  held = custody.settle({"node-b", {second}}, t0 + std::chrono::seconds{1}, ttl);
  REQUIRE(held);
  CHECK(held->empty());
  // A renews only the first (the second now belongs to B): it releases the second, B takes it.
  held = custody.settle({"node-a", {first}}, t0 + std::chrono::seconds{5}, ttl);
  REQUIRE(held);
  REQUIRE(held->size() == 1);
  CHECK(held->front().account_id == first);
  CHECK(held->front().expires_at == to_iso8601(t0 + std::chrono::seconds{5} + ttl));
  held = custody.settle({"node-b", {second}}, t0 + std::chrono::seconds{6}, ttl);
  REQUIRE(held);
  REQUIRE(held->size() == 1);
  CHECK(held->front().account_id == second);
  // A dies: after its lease expires, B takes the first account over under a new token.
  std::string old_token;
  const auto before_takeover = custody.leases().value();
  for (const auto& lease : before_takeover) {
    if (lease.account_id == first) {
      old_token = lease.lease_token;
    }
  }
  held = custody.settle({"node-b", {first, second}}, t0 + std::chrono::seconds{19}, ttl);
  REQUIRE(held);
  CHECK(held->size() == 1);
  held = custody.settle({"node-b", {first, second}}, t0 + std::chrono::seconds{21}, ttl);
  REQUIRE(held);
  CHECK(held->size() == 2);
  const auto taken_over = custody.leases().value();
  for (const auto& lease : taken_over) {
    CHECK(lease.owner_node_id == "node-b");
    if (lease.account_id == first) {
      CHECK(lease.lease_token != old_token);
    }
  }
  // A refresh ahead reaches the owner once; a replica's (after a 401) replaces it and stays
  // until a newer generation is stored, and a refresh ahead does not displace it.
  REQUIRE(custody.request_refresh_ahead(first, 0).value());
  auto taken = custody.refresh_requests("node-b");
  INFO((taken ? std::string{} : context_of(taken.error())));
  REQUIRE(taken.engaged());
  auto requests = *taken;
  REQUIRE(requests.size() == 1);
  CHECK(requests.front().account_id == first);
  CHECK(requests.front().ahead);
  CHECK(custody.refresh_requests("node-b").value().empty());
  REQUIRE(custody.request_refresh(first, 0));
  CHECK_FALSE(custody.request_refresh_ahead(first, 0).value());
  for (int read = 0; read < 2; ++read) {
    requests = custody.refresh_requests("node-b").value();
    REQUIRE(requests.size() == 1);
    CHECK(requests.front().account_id == first);
    CHECK(requests.front().generation == 0);
    CHECK_FALSE(requests.front().ahead);
  }
  // Drain expires B's leases at once.
  CHECK(custody.hand_off_all("node-b", t0 + std::chrono::seconds{22}).value() == 2);
  held = custody.settle({"node-a", {first}}, t0 + std::chrono::seconds{22}, ttl);
  REQUIRE(held);
  CHECK(held->size() == 1);
}

TEST_CASE("health evidence and HTTP session pins are shared through the database",
          "[integration][custody]") {
  const auto kind = GENERATE(test::backend::sqlite, test::backend::postgres);
  test::test_database database{kind};
  auto& db = database.db();
  account_custody_repository custody{db};
  const auto id = insert_account(db);
  const auto later = to_iso8601(t0 + std::chrono::hours{2});
  const auto sooner = to_iso8601(t0 + std::chrono::hours{1});
  REQUIRE(custody.record_health(id, later, std::nullopt, to_iso8601(t0)));
  // An earlier exhaustion does not shorten a later one; a demotion adds to it.
  REQUIRE(custody.record_health(id, sooner, sooner, to_iso8601(t0 + std::chrono::seconds{1})));
  const auto rows = custody.health_since(to_iso8601(t0)).value();
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().exhausted_until == later);
  CHECK(rows.front().demoted_until == sooner);
  CHECK(custody.health_since(to_iso8601(t0 + std::chrono::seconds{2})).value().empty());

  auto pool_id = new_uuid();
  REQUIRE(db.run([&](soci::session& sql) {
    sql << "INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES (:id, :slug, 'P', "
           ":at, :at2)",
      soci::use(pool_id), soci::use("p-" + pool_id.substr(0, 8)), soci::use(to_iso8601(t0)),
      soci::use(to_iso8601(t0));
  }));
  CHECK_FALSE(custody.session_pin(pool_id, "session-hash", t0).value());
  REQUIRE(custody.pin_session(pool_id, "session-hash", id, t0 + std::chrono::hours{1}));
  CHECK(custody.session_pin(pool_id, "session-hash", t0).value() == id);
  CHECK_FALSE(custody.session_pin(pool_id, "session-hash", t0 + std::chrono::hours{2}).value());
}
