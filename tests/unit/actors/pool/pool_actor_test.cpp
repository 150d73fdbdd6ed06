#include "actors/pool/pool_actor.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/db/db_worker.hpp"
#include "common/clock.hpp"
#include "common/database_url.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::actors;
using namespace std::chrono_literals;

namespace {

/// What a fake account saw.
struct account_log {
  int checkouts = 0;
  std::vector<quota_observation> observations;
};

/// A fake account that implements the account actor's interface (so the compiler checks it
/// against the pool's use of it): it publishes usable credentials to every subscriber and records
/// what the pool tells it.
account_actor::behavior_type fake_account(account_actor::pointer self, std::string id,
                                          std::shared_ptr<account_log> log) {
  auto grant = [id] {
    lease_grant g;
    g.account_id = id;
    g.chatgpt_account_id = "chatgpt-" + id;
    g.access_token = secret<std::string>{"token-" + id};
    return g;
  };
  return {
    [log, grant](checkout_atom) {
      ++log->checkouts;
      return grant();
    },
    [grant](refresh_atom, int64_t) { return grant(); },
    [](refresh_ahead_atom, int64_t) {},
    [](ownership_atom, bool) {},
    [](generation_atom, int64_t) {},
    [log](const quota_observation& observation) { log->observations.push_back(observation); },
    [self, id](subscribe_atom, const account_subscriber_actor& pool) {
      account_snapshot snapshot;
      snapshot.account_id = id;
      snapshot.status = "active";
      snapshot.credentials = std::make_shared<const ready_credentials>(
        ready_credentials{"chatgpt-" + id, secret<std::string>{"token-" + id}, 1, std::nullopt});
      self->send(pool, std::move(snapshot));
    },
    [](unsubscribe_atom, const account_subscriber_actor&) {},
    [](reload_atom, const persistence::routing_account_row&) {},
  };
}

/// The pool under test on CAF's test coordinator, with fake accounts, a database that fails every
/// call (pins are then only this node's) and a manual clock for circuits.
struct pool_fixture : test::actor_fixture {
  explicit pool_fixture(std::vector<std::string> account_ids) {
    auto url = parse_database_url("sqlite://:memory:");
    REQUIRE(url);
    auto opened = persistence::database::open(*url, 1);
    REQUIRE(opened);
    database = std::move(*opened);
    services.emplace(domain::service_context{*database, clock, keys, keys,
                                             secret<std::string>{std::string(32, 'a')},
                                             secret<std::string>{std::string(32, 't')}});
    db_pool = system.spawn([]() -> db_pool_actor::behavior_type {
      return {[](const db_call&) -> caf::result<db_result> {
        return make_error(errc::service_unavailable, "no database in unit tests");
      }};
    });
    deps.emplace(runtime_deps{db_pool, nullptr, *services, "http://127.0.0.1:9",
                              "http://127.0.0.1:9/oauth/token", metrics, "node-1"});
    persistence::routing_pool_row row;
    row.id = "pool-1";
    row.status = "active";
    row.routing_strategy = "bridge_ring";
    row.ring_size = 3;
    row.sticky_sessions = true;
    account_handles members;
    for (const auto& id : account_ids) {
      logs[id] = std::make_shared<account_log>();
      members[id] = system.spawn(fake_account, id, logs[id]);
      row.account_ids.push_back(id);
    }
    accounts = members;
    pool = spawn_pool_actor(system, *deps, row, std::move(members));
    sched.run();
  }

  ~pool_fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    for (const auto& [id, account] : accounts) {
      caf::anon_send_exit(account, caf::exit_reason::user_shutdown);
    }
    caf::anon_send_exit(db_pool, caf::exit_reason::user_shutdown);
    sched.run();
  }

  lease_reply lease(const std::string& session_key = {}) {
    lease_request request;
    request.pool_id = "pool-1";
    request.request_id = "req";
    request.model = "gpt-5.5";
    request.session_key = session_key;
    request.seed = session_key.empty() ? "seed" : session_key;
    auto reply = request_of<lease_reply>(pool, std::move(request));
    REQUIRE(reply);
    return std::move(*reply);
  }

  void report(const lease_grant& grant, attempt_result result,
              const std::string& session_key = {}) {
    attempt_report out;
    out.account_id = grant.account_id;
    out.model = "gpt-5.5";
    out.session_key = session_key;
    out.result = result;
    out.probe = grant.probe;
    caf::anon_send(grant.pool, std::move(out));
    sched.run();
  }

  manual_clock clock;
  persistence::keyring keys =
    std::move(*persistence::keyring::make({"v1", secret<std::string>{std::string(32, 'k')}}));
  std::unique_ptr<persistence::database> database;
  std::optional<domain::service_context> services;
  metrics::registry registry;
  gateway_metrics metrics{registry};
  db_pool_actor db_pool;
  std::optional<runtime_deps> deps;
  std::map<std::string, std::shared_ptr<account_log>> logs;
  account_handles accounts;
  pool_actor pool;
};

} // namespace

TEST_CASE("pool leases from published credentials and opens an account's circuit after failures",
          "[unit][actors][pool]") {
  pool_fixture fx{{"acct-a"}};

  auto first = fx.lease();
  REQUIRE(first.grant);
  CHECK(first.grant->account_id == "acct-a");
  CHECK(first.grant->access_token.expose() == "token-acct-a");
  CHECK(fx.logs["acct-a"]->checkouts == 0); // the snapshot's credentials, no round trip
  CHECK_FALSE(first.grant->probe);

  // Upstream failures on the only account until its circuit opens and nothing is eligible.
  std::optional<lease_reply> denied;
  fx.report(*first.grant, attempt_result::upstream_error);
  for (int attempt = 0; attempt < 50 && !denied; ++attempt) {
    auto next = fx.lease();
    if (!next.grant) {
      denied = std::move(next);
      break;
    }
    fx.report(*next.grant, attempt_result::upstream_error);
  }
  REQUIRE(denied);
  CHECK(denied->denial.code == errc::no_eligible_account);
  const auto& observations = fx.logs["acct-a"]->observations;
  REQUIRE_FALSE(observations.empty());
  REQUIRE(observations.back().circuits.size() == 1);
  CHECK(observations.back().demoted_until);
  const auto open_until = observations.back().circuits.front().until;
  CHECK(open_until > fx.clock.now());

  SECTION("the open circuit admits one probe once its time is up, and a success closes it") {
    fx.clock.set(open_until + 1s);
    auto probe = fx.lease();
    REQUIRE(probe.grant);
    CHECK(probe.grant->probe);
    fx.report(*probe.grant, attempt_result::succeeded);
    auto closed = fx.lease();
    REQUIRE(closed.grant);
    CHECK_FALSE(closed.grant->probe);
  }

  SECTION("a failed probe opens the circuit again") {
    fx.clock.set(open_until + 1s);
    auto probe = fx.lease();
    REQUIRE(probe.grant);
    CHECK(probe.grant->probe);
    fx.report(*probe.grant, attempt_result::network_error);
    CHECK_FALSE(fx.lease().grant);
  }
}

TEST_CASE("pool keeps a session on its account until the session's TTL passes",
          "[unit][actors][pool]") {
  pool_fixture fx{{"acct-a", "acct-b", "acct-c"}};

  auto first = fx.lease("session-1");
  REQUIRE(first.grant);
  CHECK_FALSE(first.grant->pinned); // nothing pinned yet (the shared lookup failed: no database)
  const auto account = first.grant->account_id;
  fx.report(*first.grant, attempt_result::succeeded, "session-1");

  auto pinned = fx.lease("session-1");
  REQUIRE(pinned.grant);
  CHECK(pinned.grant->pinned);
  CHECK(pinned.grant->account_id == account);
  fx.report(*pinned.grant, attempt_result::succeeded, "session-1");

  // The session actor quits after its TTL (on CAF's clock); the pool forgets the pin.
  fx.elapse(std::chrono::hours{24 * 400});
  auto unpinned = fx.lease("session-1");
  REQUIRE(unpinned.grant);
  CHECK_FALSE(unpinned.grant->pinned);
  fx.report(*unpinned.grant, attempt_result::cancelled, "session-1");
}

namespace {

/// The reason `decision` gives for `id`, or "absent".
std::string decision_of(const domain::routing_decision& decision, const std::string& id) {
  for (const auto& candidate : decision.candidates) {
    if (candidate.account_id == id) {
      return candidate.outcome + (candidate.reason.empty() ? "" : ":" + candidate.reason);
    }
  }
  return "absent";
}

/// Publishes a snapshot of `id` to the pool as its account actor would.
void publish(pool_fixture& fx, const std::string& id, const std::string& status,
             std::optional<time_point> exhausted_until = std::nullopt) {
  account_snapshot snapshot;
  snapshot.account_id = id;
  snapshot.status = status;
  snapshot.exhausted_until = exhausted_until;
  snapshot.credentials = std::make_shared<const ready_credentials>(
    ready_credentials{"chatgpt-" + id, secret<std::string>{"token-" + id}, 1, std::nullopt});
  caf::anon_send(fx.pool, std::move(snapshot));
  fx.sched.run();
}

} // namespace

TEST_CASE("pool returns its routing decision with the lease: who was chosen, why others were not",
          "[unit][actors][pool]") {
  pool_fixture fx{{"acct-a", "acct-b", "acct-c"}};
  publish(fx, "acct-b", "paused");
  publish(fx, "acct-c", "active", fx.clock.now() + 1h);

  auto leased = fx.lease();
  REQUIRE(leased.grant);
  CHECK(leased.grant->account_id == "acct-a");
  const auto& decision = leased.grant->routing;
  REQUIRE(decision.candidates.size() == 3);
  CHECK(decision.candidates.front().account_id == "acct-a"); // the ranked ones first
  CHECK(decision_of(decision, "acct-a") == "chosen");
  CHECK(decision_of(decision, "acct-b") == "skipped:paused");
  CHECK(decision_of(decision, "acct-c") == "skipped:quota_exhausted");
  fx.report(*leased.grant, attempt_result::succeeded);

  SECTION("a denial says why each account was left out") {
    publish(fx, "acct-a", "reauth_required");
    auto denied = fx.lease();
    REQUIRE_FALSE(denied.grant);
    CHECK(decision_of(denied.denial.routing, "acct-a") == "skipped:reauth_required");
    CHECK(decision_of(denied.denial.routing, "acct-b") == "skipped:paused");
    CHECK(decision_of(denied.denial.routing, "acct-c") == "skipped:quota_exhausted");
  }
  SECTION("a retry after a failure lists the remaining accounts only") {
    publish(fx, "acct-c", "active");
    lease_request retry;
    retry.pool_id = "pool-1";
    retry.model = "gpt-5.5";
    retry.seed = "seed";
    retry.tried = {"acct-a"};
    auto next = fx.request_of<lease_reply>(fx.pool, std::move(retry));
    REQUIRE(next);
    REQUIRE(next->grant);
    CHECK(next->grant->account_id == "acct-c");
    CHECK(decision_of(next->grant->routing, "acct-a") == "absent");
    CHECK(decision_of(next->grant->routing, "acct-c") == "chosen");
    CHECK(decision_of(next->grant->routing, "acct-b") == "skipped:paused");
    fx.report(*next->grant, attempt_result::cancelled);
  }
}

TEST_CASE("pool records a pinned session's other accounts as skipped for the pin",
          "[unit][actors][pool]") {
  pool_fixture fx{{"acct-a", "acct-b"}};
  auto first = fx.lease("session-1");
  REQUIRE(first.grant);
  const auto account = first.grant->account_id;
  const auto other = account == "acct-a" ? "acct-b" : "acct-a";
  CHECK(decision_of(first.grant->routing, other) == "skipped:ranked_lower");
  fx.report(*first.grant, attempt_result::succeeded, "session-1");

  auto pinned = fx.lease("session-1");
  REQUIRE(pinned.grant);
  CHECK(decision_of(pinned.grant->routing, account) == "chosen");
  CHECK(decision_of(pinned.grant->routing, other) == "skipped:pinned_elsewhere");
  fx.report(*pinned.grant, attempt_result::succeeded, "session-1");
}

TEST_CASE("a pinned session whose account is exhausted gets the pool's usage limit only when no "
          "account has room",
          "[unit][actors][pool][pooled_quota]") {
  pool_fixture fx{{"acct-a", "acct-b"}};
  auto first = fx.lease("session-1");
  REQUIRE(first.grant);
  const auto account = first.grant->account_id;
  const auto other = account == "acct-a" ? "acct-b" : "acct-a";
  fx.report(*first.grant, attempt_result::succeeded, "session-1");

  // The pinned account runs out while the other has room: the continuation cannot move (its
  // cache and state live on that account), so the refusal is about the pin.
  publish(fx, account, "active", fx.clock.now() + 2h);
  auto refused = fx.lease("session-1");
  REQUIRE_FALSE(refused.grant);
  CHECK(refused.denial.code == errc::pinned_continuation_unavailable);
  CHECK(decision_of(refused.denial.routing, account) == "skipped:quota_exhausted");

  // Both run out: the pool's usage limit, as a client with no pin gets it, so the CLI shows the
  // usage-limit message and when the first account comes back.
  publish(fx, other, "active", fx.clock.now() + 1h);
  auto limited = fx.lease("session-1");
  REQUIRE_FALSE(limited.grant);
  CHECK(limited.denial.code == errc::usage_limit_reached);
  CHECK(decision_of(limited.denial.routing, account) == "skipped:quota_exhausted");
  CHECK(decision_of(limited.denial.routing, other) == "skipped:quota_exhausted");
  auto unpinned = fx.lease();
  REQUIRE_FALSE(unpinned.grant);
  CHECK(unpinned.denial.code == errc::usage_limit_reached);

  // The same after the pinned account failed mid-turn (it is in `tried`).
  lease_request retry;
  retry.pool_id = "pool-1";
  retry.model = "gpt-5.5";
  retry.session_key = "session-1";
  retry.seed = "session-1";
  retry.tried = {account};
  auto after_failure = fx.request_of<lease_reply>(fx.pool, std::move(retry));
  REQUIRE(after_failure);
  REQUIRE_FALSE(after_failure->grant);
  CHECK(after_failure->denial.code == errc::usage_limit_reached);
}

namespace {

void publish_catalog(pool_fixture& fx, const std::string& id, const std::string& status,
                     bool pending, std::vector<nlohmann::json> models) {
  account_snapshot snapshot;
  snapshot.account_id = id;
  snapshot.status = status;
  snapshot.catalog_pending = pending;
  snapshot.models = std::make_shared<const std::vector<nlohmann::json>>(std::move(models));
  caf::anon_send(fx.pool, std::move(snapshot));
  fx.sched.run();
}

std::vector<std::string> slugs_of(const pool_view& view) {
  std::vector<std::string> slugs;
  for (const auto& account : view.accounts) {
    for (const auto& model : account.models ? *account.models : std::vector<nlohmann::json>{}) {
      slugs.push_back(account.account_id + ":" + model.value("slug", ""));
    }
  }
  return slugs;
}

} // namespace

TEST_CASE("the pool's view waits for an account's first catalog, and not longer than its bound",
          "[unit][actors][pool][catalog]") {
  pool_fixture fx{{"acct-a", "acct-b"}};
  publish_catalog(fx, "acct-a", "active", false, {{{"slug", "gpt-5.5"}}});
  publish_catalog(fx, "acct-b", "active", true, {});

  // A client listing models right after start sees acct-b's models once its sync answered.
  auto listed = fx.pending_request<pool_view>(fx.pool, pool_view_request{"pool-1", {}, {}});
  CHECK_FALSE(listed->has_value());
  publish_catalog(fx, "acct-b", "active", false, {{{"slug", "gpt-fake"}}});
  REQUIRE(listed->has_value());
  REQUIRE(listed->value());
  CHECK(slugs_of(*listed->value())
        == std::vector<std::string>{"acct-a:gpt-5.5", "acct-b:gpt-fake"});

  // A first catalog that never comes holds the view for its bound only.
  publish_catalog(fx, "acct-b", "active", true, {});
  auto bounded = fx.pending_request<pool_view>(fx.pool, pool_view_request{"pool-1", {}, {}});
  fx.elapse(4s);
  CHECK_FALSE(bounded->has_value());
  fx.elapse(1s);
  REQUIRE(bounded->has_value());
  CHECK(slugs_of(*bounded->value()) == std::vector<std::string>{"acct-a:gpt-5.5"});

  // An account that cannot serve holds nothing: its models are not listed anyway.
  publish_catalog(fx, "acct-b", "paused", true, {});
  auto unheld = fx.pending_request<pool_view>(fx.pool, pool_view_request{"pool-1", {}, {}});
  CHECK(unheld->has_value());
}
