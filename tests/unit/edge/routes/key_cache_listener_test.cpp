#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "edge/routes/codex/codex_auth.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::edge;
using namespace std::chrono_literals;

namespace {

domain::authenticated_key key_with_id(const std::string& id) {
  domain::authenticated_key key;
  key.key.id = id;
  return key;
}

} // namespace

TEST_CASE("the key cache forgets a key announced as changed on the node's board, and only that key",
          "[codex_auth]") {
  test::actor_fixture fx;
  api_key_cache cache{1h};
  cache.put("digest-a", key_with_id("key-a"));
  cache.put("digest-b", key_with_id("key-b"));
  auto listener = spawn_key_cache_listener(fx.system, cache);
  fx.sched.run();

  actors::announce(fx.system, actors::api_key_changed{"key-a"});
  fx.sched.run();
  CHECK_FALSE(cache.find("digest-a"));
  REQUIRE(cache.find("digest-b"));
  CHECK(cache.find("digest-b")->key.id == "key-b");

  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  fx.sched.run();
}
