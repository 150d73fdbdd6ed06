#include "cluster/node/forwarding.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"
#include "cluster/envelope/cluster_envelope.hpp"
#include "tests/unit/actors/actor_fixture.hpp"

using namespace cxp;
using namespace cxp::cluster;

namespace {

/// What the edge's connection received.
struct connection_log {
  std::vector<actors::stream_frame> frames;
  std::vector<actors::stream_turn_done> done;
  std::vector<std::string> closed;
};

/// What a stream on the owner node received.
struct stream_log {
  std::vector<actors::stream_attach> attached;
  std::vector<actors::stream_turn> turns;
  std::vector<uint64_t> acks;
  std::vector<uint64_t> detached;
};

/// The proxy and the relay on CAF's test coordinator, each between typed fakes of what surrounds
/// it: the edge's connection, the other node's end of the forwarding (which records the
/// envelopes it gets), the node actor and the owner's stream.
struct forwarding_fixture : test::actor_fixture {
  forwarding_fixture() {
    connection =
      system.spawn([log = connected]() -> actors::stream_connection_actor::behavior_type {
        return {[log](actors::stream_frame& frame) { log->frames.push_back(frame); },
                [log](actors::stream_turn_done& done) { log->done.push_back(done); },
                [log](actors::stream_closed& closed) {
                  log->closed.push_back(closed.reason);
                }};
      });
    far_end = system.spawn([log = envelopes]() -> forwarding_peer_actor::behavior_type {
      return {[log](cluster_envelope& envelope) {
        log->push_back(envelope);
      }};
    });
    stream = system.spawn([log = streamed]() -> actors::stream_actor::behavior_type {
      return {
        [log](actors::stream_attach& attach) { log->attached.push_back(attach); },
        [log](actors::stream_detach& detach) { log->detached.push_back(detach.connection_id); },
        [log](actors::stream_turn& turn) { log->turns.push_back(turn); },
        [](actors::stream_forward&) {},
        [log](actors::stream_ack& ack) {
          log->acks.push_back(ack.seq);
        }};
    });
    sched.run();
  }

  ~forwarding_fixture() { stop(connection, far_end, stream); }

  /// A proxy attached to `connection` and pointed at `far_end` (the owner's relay); `node`
  /// answers its re-opens.
  stream_proxy_actor attached_proxy(actors::stream_opener_actor node = {}) {
    auto proxy = spawn_stream_proxy(system, std::move(node), {"alias-1"});
    caf::anon_send(proxy, actors::stream_attach{connection, 11, {{"x-a", "b"}}});
    sched.run();
    CHECK(envelopes->empty()); // held until the owner names its relay
    caf::anon_send(proxy, actors::relay_atom::value, far_end);
    sched.run();
    REQUIRE(envelopes->size() == 1);
    auto attach = unseal<remote_attach>(system, envelopes->front());
    REQUIRE(attach);
    CHECK(attach->connection_id == 11);
    CHECK(peer_of<remote_attach>(envelopes->front()) == proxy);
    envelopes->clear();
    return proxy;
  }

  /// A relay on the owner node between `stream` and `far_end` (the proxy).
  stream_relay_actor relay_to_stream() {
    auto relay = spawn_stream_relay(system, stream, far_end);
    caf::anon_send(relay, seal(system, remote_attach{11, {{"x-a", "b"}}}));
    sched.run();
    return relay;
  }

  static actors::stream_turn turn(uint64_t id) {
    actors::stream_turn t;
    t.connection_id = 11;
    t.turn_id = id;
    t.frame = R"({"type":"response.create"})";
    return t;
  }

  std::shared_ptr<connection_log> connected = std::make_shared<connection_log>();
  std::shared_ptr<std::vector<cluster_envelope>> envelopes =
    std::make_shared<std::vector<cluster_envelope>>();
  std::shared_ptr<stream_log> streamed = std::make_shared<stream_log>();
  actors::stream_connection_actor connection;
  forwarding_peer_actor far_end;
  actors::stream_actor stream;
};

} // namespace

TEST_CASE_METHOD(forwarding_fixture,
                 "a forwarded turn travels sealed to the owner and its frames come back in order",
                 "[unit][cluster][forwarding]") {
  auto proxy = attached_proxy();
  caf::anon_send(proxy, turn(1));
  sched.run();
  REQUIRE(envelopes->size() == 1);
  auto sealed = unseal<actors::stream_turn>(system, envelopes->front());
  REQUIRE(sealed);
  CHECK(sealed->turn_id == 1);
  CHECK(sealed->frame == turn(1).frame);

  for (uint64_t seq = 1; seq <= 3; ++seq) {
    caf::anon_send(proxy,
                   seal(system, actors::stream_frame{1, seq, "frame " + std::to_string(seq)}));
  }
  caf::anon_send(proxy, seal(system, actors::stream_turn_done{1, true, {}, "", "acct"}));
  sched.run();
  REQUIRE(connected->frames.size() == 3);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    CHECK(connected->frames[seq - 1].seq == seq);
  }
  REQUIRE(connected->done.size() == 1);
  CHECK(connected->done[0].ok);
  CHECK_FALSE(connected->done[0].error);

  // Acknowledgements go back to the owner (backpressure spans the nodes).
  caf::anon_send(proxy, actors::stream_ack{3});
  sched.run();
  REQUIRE(envelopes->size() == 2);
  auto ack = unseal<actors::stream_ack>(system, envelopes->back());
  REQUIRE(ack);
  CHECK(ack->seq == 3);
  stop(proxy);
}

TEST_CASE_METHOD(forwarding_fixture,
                 "a frame of another protocol version fails the turn cleanly instead of being "
                 "decoded",
                 "[unit][cluster][forwarding]") {
  auto proxy = attached_proxy();
  caf::anon_send(proxy, turn(4));
  auto envelope = seal(system, actors::stream_frame{4, 1, "hello"});
  envelope.version = cluster_protocol_version + 1;
  caf::anon_send(proxy, std::move(envelope));
  sched.run();
  CHECK(connected->frames.empty());
  REQUIRE(connected->done.size() == 1);
  CHECK(connected->done[0].turn_id == 4);
  CHECK_FALSE(connected->done[0].ok);
  CHECK(to_errc(connected->done[0].error) == errc::cluster_protocol_mismatch);
  // Nothing more goes to that owner.
  envelopes->clear();
  caf::anon_send(proxy, actors::stream_ack{1});
  sched.run();
  CHECK(envelopes->empty());
  stop(proxy);
}

TEST_CASE_METHOD(forwarding_fixture,
                 "losing the owner fails the turn in flight and the next turn re-opens the session",
                 "[unit][cluster][forwarding]") {
  // The node actor's stand-in: the first re-open finds the owner still leased, the second
  // answers with a local stream (the forwarding node took the session over).
  auto opens = std::make_shared<int>(0);
  auto node = system.spawn([opens, local = stream]() -> actors::stream_opener_actor::behavior_type {
    return {[opens, local](actors::stream_open& open) -> caf::result<actors::stream_opened> {
      CHECK(open.aliases == std::vector<std::string>{"alias-1"});
      if (++*opens == 1) {
        return make_error(errc::owner_unavailable, "lease still live");
      }
      return actors::stream_opened{local, true};
    }};
  });
  auto proxy = attached_proxy(node);
  caf::anon_send(proxy, turn(1));
  sched.run();
  stop(far_end); // the owner node is gone
  REQUIRE(connected->done.size() == 1);
  CHECK(connected->done[0].turn_id == 1);
  CHECK_FALSE(connected->done[0].ok);
  CHECK(to_errc(connected->done[0].error) == errc::owner_unavailable);

  caf::anon_send(proxy, turn(2));
  sched.run();
  REQUIRE(connected->done.size() == 2);
  CHECK(connected->done[1].turn_id == 2);
  CHECK(to_errc(connected->done[1].error) == errc::owner_unavailable);
  CHECK(streamed->turns.empty());

  caf::anon_send(proxy, turn(3));
  sched.run();
  CHECK(*opens == 2);
  REQUIRE(streamed->attached.size() == 1);
  CHECK(streamed->attached[0].connection == connection);
  CHECK(streamed->attached[0].connection_id == 11);
  REQUIRE(streamed->turns.size() == 1);
  CHECK(streamed->turns[0].turn_id == 3);
  // Later messages go to the new stream directly.
  caf::anon_send(proxy, actors::stream_ack{5});
  sched.run();
  CHECK(streamed->acks == std::vector<uint64_t>{5});
  stop(proxy, node);
}

TEST_CASE_METHOD(forwarding_fixture,
                 "a proxy whose connection goes away detaches it on the owner and ends",
                 "[unit][cluster][forwarding]") {
  auto proxy = attached_proxy();
  stop(connection);
  REQUIRE(envelopes->size() == 1);
  auto detach = unseal<actors::stream_detach>(system, envelopes->front());
  REQUIRE(detach);
  CHECK(detach->connection_id == 11);
  CHECK(has_quit(proxy));
}

TEST_CASE_METHOD(forwarding_fixture,
                 "the relay attaches itself for the forwarded connection and seals the stream's "
                 "frames back",
                 "[unit][cluster][forwarding]") {
  auto relay = relay_to_stream();
  REQUIRE(streamed->attached.size() == 1);
  CHECK(streamed->attached[0].connection == relay);
  CHECK(streamed->attached[0].connection_id == 11);
  REQUIRE(streamed->attached[0].client_headers.size() == 1);

  caf::anon_send(relay, seal(system, turn(1)));
  caf::anon_send(relay, seal(system, actors::stream_ack{2}));
  sched.run();
  REQUIRE(streamed->turns.size() == 1);
  CHECK(streamed->turns[0].turn_id == 1);
  CHECK(streamed->acks == std::vector<uint64_t>{2});

  caf::anon_send(relay, actors::stream_frame{1, 1, "one"});
  caf::anon_send(relay,
                 actors::stream_turn_done{1, false, make_error(errc::service_unavailable), "", ""});
  sched.run();
  REQUIRE(envelopes->size() == 2);
  auto frame = unseal<actors::stream_frame>(system, (*envelopes)[0]);
  REQUIRE(frame);
  CHECK(frame->text == "one");
  CHECK(peer_of<actors::stream_frame>((*envelopes)[0]) == relay);
  auto done = unseal<actors::stream_turn_done>(system, (*envelopes)[1]);
  REQUIRE(done);
  CHECK(to_errc(done->error) == errc::service_unavailable);
  stop(relay);
}

TEST_CASE_METHOD(forwarding_fixture,
                 "the relay ends with either side: it detaches the proxy's connection or tells the "
                 "proxy the owner's stream is gone",
                 "[unit][cluster][forwarding]") {
  auto relay = relay_to_stream();

  SECTION("the proxy (or its node) goes away") {
    stop(far_end);
    CHECK(streamed->detached == std::vector<uint64_t>{11});
  }

  SECTION("the stream goes away") {
    stop(stream);
    REQUIRE(envelopes->size() == 1);
    auto closed = unseal<actors::stream_closed>(system, envelopes->front());
    REQUIRE(closed);
    CHECK(closed->reason == "owner_gone");
  }
  CHECK(has_quit(relay));
}

TEST_CASE_METHOD(forwarding_fixture,
                 "the relay refuses an envelope of another protocol version without decoding it",
                 "[unit][cluster][forwarding]") {
  auto relay = relay_to_stream();
  auto envelope = seal(system, turn(1));
  envelope.version = cluster_protocol_version + 1;
  caf::anon_send(relay, std::move(envelope));
  sched.run();
  CHECK(streamed->turns.empty());
  REQUIRE(envelopes->size() == 1);
  auto closed = unseal<actors::stream_closed>(system, envelopes->front());
  REQUIRE(closed);
  CHECK(closed->reason == "protocol_mismatch");
  stop(relay);
}
