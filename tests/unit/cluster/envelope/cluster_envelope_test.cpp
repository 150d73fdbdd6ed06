#include "cluster/envelope/cluster_envelope.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "cluster/cluster_types.hpp"

using namespace cxp;
using namespace cxp::cluster;

namespace {

struct system_fixture {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  system_fixture() {
    actors::add_message_types(config);
    add_cluster_message_types(config);
    system = std::make_unique<caf::actor_system>(config);
  }
};

actors::stream_turn sample_turn() {
  actors::stream_turn turn;
  turn.connection_id = 7;
  turn.turn_id = 3;
  turn.frame = R"({"type":"response.create","model":"gpt-5"})";
  turn.request_id = "req-1";
  turn.pool_id = "pool-1";
  turn.api_key_id = "key-1";
  turn.route = "/backend-api/codex/responses";
  turn.model = "gpt-5";
  turn.session_key = "abc";
  return turn;
}

/// The envelope as it crosses the wire: CAF-serialized and deserialized again.
cluster_envelope over_the_wire(caf::actor_system& system, cluster_envelope envelope) {
  std::vector<char> bytes;
  caf::binary_serializer sink{system, bytes};
  REQUIRE_FALSE(sink(envelope));
  cluster_envelope received;
  caf::binary_deserializer source{system, bytes};
  REQUIRE_FALSE(source(received));
  return received;
}

} // namespace

TEST_CASE_METHOD(system_fixture, "a sealed stream turn crosses the wire and unseals unchanged",
                 "[unit][cluster][envelope]") {
  auto envelope = over_the_wire(*system, seal(*system, sample_turn(), 42));
  CHECK(envelope.version == cluster_protocol_version);
  CHECK(envelope.kind == "stream_turn");
  CHECK(envelope.route == 42);
  auto turn = unseal<actors::stream_turn>(*system, envelope);
  REQUIRE(turn);
  CHECK(turn->connection_id == 7);
  CHECK(turn->turn_id == 3);
  CHECK(turn->frame == sample_turn().frame);
  CHECK(turn->route == "/backend-api/codex/responses");
  CHECK(turn->session_key == "abc");
}

TEST_CASE_METHOD(system_fixture,
                 "an envelope of an unknown protocol version decodes to a clean typed error",
                 "[unit][cluster][envelope]") {
  const auto version = GENERATE(uint16_t{0}, uint16_t{cluster_protocol_version + 1}, uint16_t{999});
  CAPTURE(version);
  auto envelope = seal(*system, sample_turn());
  envelope.version = version;
  auto received = over_the_wire(*system, std::move(envelope));
  CHECK(received.version == version);
  auto turn = unseal<actors::stream_turn>(*system, received);
  REQUIRE_FALSE(turn);
  CHECK(to_errc(turn.error()) == errc::cluster_protocol_mismatch);
}

TEST_CASE_METHOD(system_fixture,
                 "an envelope is never decoded as another kind, nor from truncated or padded bytes",
                 "[unit][cluster][envelope]") {
  SECTION("another kind") {
    auto frame = seal(*system, actors::stream_frame{1, 2, "{}"});
    auto as_turn = unseal<actors::stream_turn>(*system, frame);
    REQUIRE_FALSE(as_turn);
    CHECK(to_errc(as_turn.error()) == errc::cluster_protocol_mismatch);
  }
  SECTION("truncated payload") {
    auto envelope = seal(*system, sample_turn());
    envelope.payload.resize(envelope.payload.size() / 2);
    auto turn = unseal<actors::stream_turn>(*system, envelope);
    REQUIRE_FALSE(turn);
    CHECK(to_errc(turn.error()) == errc::cluster_protocol_mismatch);
  }
  SECTION("trailing bytes") {
    auto envelope = seal(*system, actors::stream_ack{9});
    envelope.payload.push_back('x');
    auto ack = unseal<actors::stream_ack>(*system, envelope);
    REQUIRE_FALSE(ack);
    CHECK(to_errc(ack.error()) == errc::cluster_protocol_mismatch);
  }
}

TEST_CASE_METHOD(system_fixture, "cluster bodies without handles round-trip",
                 "[unit][cluster][envelope]") {
  auto hello =
    unseal<node_hello>(*system, over_the_wire(*system, seal(*system, node_hello{"n1", 1})));
  REQUIRE(hello);
  CHECK(hello->node_id == "n1");
  auto attach = unseal<remote_attach>(
    *system,
    over_the_wire(*system, seal(*system, remote_attach{5, {{"x-codex-turn-state", "t"}}})));
  REQUIRE(attach);
  CHECK(attach->connection_id == 5);
  REQUIRE(attach->client_headers.size() == 1);
  CHECK(attach->client_headers[0].second == "t");
  auto done = unseal<actors::stream_turn_done>(
    *system, over_the_wire(*system, seal(*system, actors::stream_turn_done{
                                                    3, false, make_error(errc::owner_unavailable),
                                                    "", "acct"})));
  REQUIRE(done);
  CHECK(done->account_id == "acct");
  CHECK_FALSE(done->ok);
  CHECK(to_errc(done->error) == errc::owner_unavailable);
  auto changed = unseal<actors::api_key_changed>(
    *system, over_the_wire(*system, seal(*system, actors::api_key_changed{"key-7"})));
  REQUIRE(changed);
  CHECK(changed->api_key_id == "key-7");
  auto settings = seal(*system, actors::settings_changed{});
  CHECK(settings.kind == "settings_changed");
  CHECK(unseal<actors::settings_changed>(*system, over_the_wire(*system, settings)));
  CHECK_FALSE(unseal<actors::api_key_changed>(*system, settings));
}

TEST_CASE_METHOD(system_fixture,
                 "an envelope hands its sender back with the interface its kind names, and no "
                 "other",
                 "[unit][cluster][envelope]") {
  auto relay = system->spawn([]() -> forwarding_peer_actor::behavior_type {
    return {[](cluster_envelope&) {
    }};
  });
  auto envelope = over_the_wire(*system, seal(*system, actors::stream_frame{1, 1, "{}"}, 0, relay));
  CHECK(peer_of<actors::stream_frame>(envelope) == relay);
  // A node-level kind names a node actor: a relay's handle is never handed out as one.
  CHECK_FALSE(peer_of<node_hello>(envelope));
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(system_fixture,
                 "every message between nodes is announced, so peers can check each other's "
                 "interface when they connect",
                 "[unit][cluster][envelope]") {
  // `middleman::remote_actor<peer_node_actor>` compares these signatures by the announced names;
  // an unannounced type would be compared by a compiler-specific placeholder instead.
  for (const auto& signatures :
       {system->message_types<peer_node_actor>(), system->message_types<forwarding_peer_actor>()}) {
    REQUIRE_FALSE(signatures.empty());
    for (const auto& signature : signatures) {
      CAPTURE(signature);
      CHECK(signature.find("invalid-type") == std::string::npos);
      CHECK(signature.find("cxp.cluster_envelope") != std::string::npos);
    }
  }
}
