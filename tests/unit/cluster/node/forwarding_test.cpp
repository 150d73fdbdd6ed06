#include "cluster/node/forwarding.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "cluster/cluster_types.hpp"
#include "cluster/envelope/cluster_envelope.hpp"
#include "cluster/node/node_actor.hpp"

using namespace cxp;
using namespace cxp::cluster;

namespace {

constexpr auto wait_limit = std::chrono::seconds{5};

struct forwarding_fixture {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<caf::scoped_actor> connection; ///< plays the edge's connection actor
  std::unique_ptr<caf::scoped_actor> relay;      ///< plays the owner node's relay

  forwarding_fixture() {
    actors::add_message_types(config);
    add_cluster_message_types(config);
    system = std::make_unique<caf::actor_system>(config);
    connection = std::make_unique<caf::scoped_actor>(*system);
    relay = std::make_unique<caf::scoped_actor>(*system);
  }

  ~forwarding_fixture() {
    relay.reset();
    connection.reset();
  }

  /// A proxy attached to `connection` and pointed at `relay`; `node` answers re-opens.
  caf::actor attached_proxy(caf::actor node = {}) {
    auto proxy = spawn_stream_proxy(*system, std::move(node), {"alias-1"});
    caf::anon_send(proxy, actors::relay_atom::value, caf::actor{*relay});
    caf::anon_send(proxy, actors::stream_attach{caf::actor{*connection}, 11, {{"x-a", "b"}}});
    // The relay first sees the attach, without the connection handle.
    (*relay)->receive(
      [&](cluster_envelope& envelope) {
        auto attach = unseal<remote_attach>(*system, envelope);
        REQUIRE(attach);
        CHECK(attach->connection_id == 11);
        CHECK(envelope.peer == proxy);
      },
      caf::after(wait_limit) >> [] { FAIL("no attach reached the relay"); });
    return proxy;
  }
};

} // namespace

TEST_CASE_METHOD(forwarding_fixture,
                 "a forwarded turn travels sealed to the owner and its frames come back in order",
                 "[unit][cluster][forwarding]") {
  auto proxy = attached_proxy();
  actors::stream_turn turn;
  turn.connection_id = 11;
  turn.turn_id = 1;
  turn.frame = R"({"type":"response.create"})";
  caf::anon_send(proxy, turn);
  (*relay)->receive(
    [&](cluster_envelope& envelope) {
      auto sealed = unseal<actors::stream_turn>(*system, envelope);
      REQUIRE(sealed);
      CHECK(sealed->frame == turn.frame);
    },
    caf::after(wait_limit) >> [] { FAIL("no turn reached the relay"); });
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    (*relay)->send(proxy,
                   seal(*system, actors::stream_frame{1, seq, "frame " + std::to_string(seq)}));
  }
  (*relay)->send(proxy, seal(*system, actors::stream_turn_done{1, true, 0, "", "acct"}));
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    (*connection)
      ->receive([&](actors::stream_frame& frame) { CHECK(frame.seq == seq); },
                caf::after(wait_limit) >> [] { FAIL("a frame went missing"); });
  }
  (*connection)
    ->receive([&](actors::stream_turn_done& done) { CHECK(done.ok); },
              caf::after(wait_limit) >> [] { FAIL("the turn never ended"); });
  // Acknowledgements go back to the owner (backpressure spans the nodes).
  caf::anon_send(proxy, actors::stream_ack{3});
  (*relay)->receive(
    [&](cluster_envelope& envelope) {
      auto ack = unseal<actors::stream_ack>(*system, envelope);
      REQUIRE(ack);
      CHECK(ack->seq == 3);
    },
    caf::after(wait_limit) >> [] { FAIL("the ack was not forwarded"); });
  caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(forwarding_fixture,
                 "a frame of another protocol version fails the turn cleanly instead of being "
                 "decoded",
                 "[unit][cluster][forwarding]") {
  auto proxy = attached_proxy();
  actors::stream_turn turn;
  turn.connection_id = 11;
  turn.turn_id = 4;
  caf::anon_send(proxy, turn);
  (*relay)->receive([](cluster_envelope&) {},
                    caf::after(wait_limit) >> [] { FAIL("no turn reached the relay"); });
  auto envelope = seal(*system, actors::stream_frame{4, 1, "hello"});
  envelope.version = cluster_protocol_version + 1;
  (*relay)->send(proxy, std::move(envelope));
  (*connection)
    ->receive(
      [](actors::stream_turn_done& done) {
        CHECK(done.turn_id == 4);
        CHECK_FALSE(done.ok);
        CHECK(done.error_code == static_cast<uint8_t>(errc::cluster_protocol_mismatch));
      },
      [](actors::stream_frame&) { FAIL("a frame of another version was decoded"); },
      caf::after(wait_limit) >> [] { FAIL("the connection was not told"); });
  caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(forwarding_fixture,
                 "losing the owner fails the turn in flight and the next turn re-opens the session",
                 "[unit][cluster][forwarding]") {
  // The node actor's stand-in: the first re-open finds the owner still leased, the second
  // answers with a local stream (the forwarding node took the session over).
  caf::scoped_actor new_stream{*system};
  int opens = 0;
  auto node = system->spawn([&opens, stream = caf::actor{new_stream}](caf::event_based_actor*) {
    return caf::behavior{
      [&opens, stream](actors::stream_open&) -> caf::result<actors::stream_opened> {
        if (++opens == 1) {
          return make_error(errc::owner_unavailable, "lease still live");
        }
        return actors::stream_opened{stream, true};
      },
    };
  });
  auto proxy = attached_proxy(node);
  actors::stream_turn turn;
  turn.connection_id = 11;
  turn.turn_id = 1;
  caf::anon_send(proxy, turn);
  (*relay)->receive([](cluster_envelope&) {},
                    caf::after(wait_limit) >> [] { FAIL("no turn reached the relay"); });
  relay.reset(); // the owner node is gone
  (*connection)
    ->receive(
      [](actors::stream_turn_done& done) {
        CHECK(done.turn_id == 1);
        CHECK_FALSE(done.ok);
        CHECK(done.error_code == static_cast<uint8_t>(errc::owner_unavailable));
      },
      caf::after(wait_limit) >> [] { FAIL("the turn in flight was not failed"); });
  turn.turn_id = 2;
  caf::anon_send(proxy, turn);
  (*connection)
    ->receive(
      [](actors::stream_turn_done& done) {
        CHECK(done.turn_id == 2);
        CHECK(done.error_code == static_cast<uint8_t>(errc::owner_unavailable));
      },
      caf::after(wait_limit) >> [] { FAIL("the refused re-open was not reported"); });
  turn.turn_id = 3;
  caf::anon_send(proxy, turn);
  new_stream->receive([](actors::stream_attach& attach) { CHECK(attach.connection_id == 11); },
                      caf::after(wait_limit) >> [] { FAIL("the new stream was not attached"); });
  new_stream->receive([](actors::stream_turn& resent) { CHECK(resent.turn_id == 3); },
                      caf::after(wait_limit) >>
                        [] { FAIL("the turn did not reach the new stream"); });
  caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
}
