#include "actors/db/db_worker.hpp"

#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "common/database_url.hpp"
#include "common/errc.hpp"

using namespace cxp;
using namespace cxp::actors;

namespace {

constexpr auto wait_limit = std::chrono::seconds{10};

/// A db pool of one worker over an in-memory SQLite database. Its workers are detached threads,
/// which CAF's test coordinator does not drive, so answers are awaited (bounded).
struct db_fixture {
  caf::actor_system_config config;
  caf::actor_system system{config};
  std::unique_ptr<persistence::database> database;
  db_pool_actor pool;

  db_fixture() {
    auto url = parse_database_url("sqlite://:memory:");
    REQUIRE(url);
    auto opened = persistence::database::open(*url, 1);
    REQUIRE(opened);
    database = std::move(*opened);
    pool = spawn_db_pool(system, *database, 1);
  }

  ~db_fixture() { caf::anon_send_exit(pool, caf::exit_reason::user_shutdown); }

  /// Asks `target` to run `work` from an actor and returns what the one-continuation `then` saw.
  template <class Work>
  auto outcome_of(const db_pool_actor& target, Work work) {
    using result = std::invoke_result_t<Work&, persistence::database&>;
    auto answered = std::make_shared<std::promise<result>>();
    auto answer = answered->get_future();
    system.spawn([answered, target, work](caf::event_based_actor* self) {
      ask_db(self, target, wait_limit, work).then([answered](result& outcome) {
        answered->set_value(outcome);
      });
    });
    REQUIRE(answer.wait_for(wait_limit) == std::future_status::ready);
    return answer.get();
  }
};

} // namespace

TEST_CASE("the db pool answers a call with the type its work returned, on the pool's database",
          "[unit][actors][db]") {
  db_fixture fx;
  auto number =
    fx.outcome_of(fx.pool, [](persistence::database&) -> caf::expected<int> { return 42; });
  REQUIRE(number);
  CHECK(*number == 42);

  auto same_database = fx.outcome_of(
    fx.pool, [expected = fx.database.get()](persistence::database& db) -> caf::expected<bool> {
      return &db == expected;
    });
  REQUIRE(same_database);
  CHECK(*same_database);

  auto refused = fx.outcome_of(fx.pool, [](persistence::database&) -> caf::expected<std::string> {
    return make_error(errc::not_found, "no such row");
  });
  REQUIRE_FALSE(refused);
  CHECK(to_errc(refused.error()) == errc::not_found);
}

TEST_CASE("work that throws is answered with internal_error and its worker keeps serving",
          "[unit][actors][db]") {
  db_fixture fx;
  auto thrown = fx.outcome_of(fx.pool, [](persistence::database&) -> caf::expected<void> {
    throw std::runtime_error{"repository bug"};
  });
  REQUIRE_FALSE(thrown);
  CHECK(to_errc(thrown.error()) == errc::internal_error);

  auto next =
    fx.outcome_of(fx.pool, [](persistence::database&) -> caf::expected<int> { return 7; });
  REQUIRE(next);
  CHECK(*next == 7);
}

TEST_CASE("a question that fails reaches the error handler, or the one continuation as an error",
          "[unit][actors][db]") {
  db_fixture fx;
  auto dead = spawn_db_pool(fx.system, *fx.database, 1);
  caf::anon_send_exit(dead, caf::exit_reason::kill);
  auto work = [](persistence::database&) -> caf::expected<int> {
    return 1;
  };

  auto failed = fx.outcome_of(dead, work);
  CHECK_FALSE(failed);

  // The two-handler form tells the question's failure apart from the work's result.
  auto errored = std::make_shared<std::promise<bool>>();
  auto answer = errored->get_future();
  fx.system.spawn([errored, dead, work](caf::event_based_actor* self) {
    ask_db(self, dead, wait_limit, work)
      .then([errored](caf::expected<int>&) { errored->set_value(false); },
            [errored](caf::error&) { errored->set_value(true); });
  });
  REQUIRE(answer.wait_for(wait_limit) == std::future_status::ready);
  CHECK(answer.get());
}
