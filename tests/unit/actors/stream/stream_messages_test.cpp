#include "actors/stream/stream_messages.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "common/errc.hpp"

using namespace cxp::actors;

namespace {

template <class T>
T round_trip(caf::actor_system& system, T value) {
  std::vector<char> buffer;
  caf::binary_serializer sink{system, buffer};
  REQUIRE_FALSE(inspect(sink, value));
  T copy;
  caf::binary_deserializer source{system, buffer};
  REQUIRE_FALSE(inspect(source, copy));
  return copy;
}

} // namespace

TEST_CASE("stream messages survive serialization (they may cross nodes)",
          "[unit][actors][stream]") {
  caf::actor_system_config config;
  add_message_types(config);
  caf::actor_system system{config};

  stream_turn turn;
  turn.connection_id = 7;
  turn.turn_id = 3;
  turn.frame = R"({"type":"response.create","model":"gpt-5.5"})";
  turn.request_id = "req-1";
  turn.pool_id = "pool-1";
  turn.api_key_id = "key-1";
  turn.route = "/backend-api/codex/responses";
  turn.model = "gpt-5.5";
  turn.session_key = "abc";
  turn.alias_salt = "pool-1:key-1";
  auto copy = round_trip(system, turn);
  CHECK(copy.connection_id == 7);
  CHECK(copy.turn_id == 3);
  CHECK(copy.frame == turn.frame);
  CHECK(copy.alias_salt == "pool-1:key-1");

  auto frame = round_trip(system, stream_frame{3, 42, "{\"type\":\"response.completed\"}"});
  CHECK(frame.seq == 42);
  CHECK(frame.text == "{\"type\":\"response.completed\"}");

  stream_turn_done done{3, false, make_error(cxp::errc::service_unavailable), "restart", "acct-1"};
  auto done_copy = round_trip(system, done);
  CHECK(cxp::to_errc(done_copy.error) == cxp::errc::service_unavailable);
  CHECK(done_copy.account_id == "acct-1");

  caf::scoped_actor self{system};
  stream_attach attach{caf::actor_cast<stream_connection_actor>(self), 9, {{"session-id", "s-1"}}};
  auto attach_copy = round_trip(system, attach);
  CHECK(attach_copy.connection == attach.connection);
  REQUIRE(attach_copy.client_headers.size() == 1);
  CHECK(attach_copy.client_headers[0].second == "s-1");
}
