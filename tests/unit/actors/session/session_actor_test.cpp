#include "actors/session/session_actor.hpp"

#include <chrono>

#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::actors;
using namespace std::chrono_literals;

TEST_CASE("session quits one TTL after its last ping and not before", "[unit][actors][session]") {
  test::actor_fixture fx;
  auto session = spawn_session_actor(fx.system, 10s);
  fx.sched.run();

  SECTION("without a ping it lives exactly one TTL") {
    fx.elapse(9s);
    CHECK_FALSE(test::actor_fixture::has_quit(session));
    fx.elapse(1s);
    CHECK(test::actor_fixture::has_quit(session));
  }

  SECTION("a ping moves the expiry to one TTL after it") {
    fx.sched.advance_time(6s);
    caf::anon_send(session, ping_atom::value);
    fx.sched.run();
    fx.elapse(4s); // the first timer (t=10 s) finds 4 s idle and re-arms for 6 s
    CHECK_FALSE(test::actor_fixture::has_quit(session));
    fx.elapse(5s); // t=15 s
    CHECK_FALSE(test::actor_fixture::has_quit(session));
    fx.elapse(1s); // t=16 s: 10 s after the ping
    CHECK(test::actor_fixture::has_quit(session));
  }

  SECTION("pings that keep coming keep it alive") {
    for (int i = 0; i < 10; ++i) {
      fx.sched.advance_time(5s);
      caf::anon_send(session, ping_atom::value);
      fx.sched.run();
    }
    CHECK_FALSE(test::actor_fixture::has_quit(session));
    fx.elapse(9s);
    CHECK_FALSE(test::actor_fixture::has_quit(session));
    fx.elapse(1s);
    CHECK(test::actor_fixture::has_quit(session));
  }
  caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
  fx.sched.run();
}
