#include "actors/stream/stream_actor.hpp"

#include <algorithm>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/pool/routing_messages.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/type_ids.hpp"
#include "common/metrics/registry.hpp"
#include "tests/fake_upstream/fake_upstream.hpp"

using namespace cxp;
using namespace cxp::actors;
using json = nlohmann::json;

namespace {

constexpr auto wait = std::chrono::seconds{10};

/// A directory that grants every lease on the fake's `acct-1`, a pool that swallows reports,
/// and a request log that counts rows; the stream actor under test is real, and so is its
/// upstream (the in-process fake on port 0).
struct stream_fixture {
  explicit stream_fixture(std::map<std::string, std::string> settings = {}) {
    add_message_types(config);
    system.emplace(config);
    REQUIRE_FALSE(upstream.start());
    test::account_script script;
    script.account_id = "acct-1";
    script.access_token = "token-1";
    script.refresh_token = "rt-1";
    script.reply_text = "hello from acct-1";
    upstream.set_account(script);
    snapshot = std::make_shared<const domain::instance_settings>(
      domain::instance_settings::from_stored(settings));
    pool = system->spawn([]() -> attempt_sink_actor::behavior_type {
      return {[](attempt_report&) {
      }};
    });
    auto rows = logged;
    log = system->spawn([rows]() -> request_log_actor::behavior_type {
      return {[rows](persistence::request_log_row&) { ++*rows; },
              [](flush_atom) {
                return true;
              }};
    });
    auto grant_pool = pool;
    auto grant_settings = snapshot;
    directory = system->spawn([grant_pool, grant_settings]() -> lease_source_actor::behavior_type {
      return {[grant_pool, grant_settings](lease_request&) {
        lease_grant grant;
        grant.account_id = "acct-1";
        grant.chatgpt_account_id = "acct-1";
        grant.access_token = secret<std::string>{"token-1"};
        grant.pool = grant_pool;
        grant.pinned = true;
        grant.ring_size = 1;
        grant.settings = grant_settings;
        lease_reply reply;
        reply.grant = std::move(grant);
        return reply;
      }};
    });
    deps.emplace(stream_deps{directory, log, ws_transport::start(1),
                             "http://127.0.0.1:" + std::to_string(upstream.port()) + "/backend-api",
                             clock, metrics, std::chrono::minutes{30}, 1u << 20});
    stream = spawn_stream_actor(*system, *deps, stream_tracker_actor{});
  }

  ~stream_fixture() {
    caf::anon_send_exit(stream, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(log, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    system->await_all_actors_done();
    deps->transport.stop();
    upstream.stop();
  }

  stream_turn turn(uint64_t connection, uint64_t id, const std::string& text) {
    stream_turn t;
    t.connection_id = connection;
    t.turn_id = id;
    t.frame =
      json{{"type", "response.create"},
           {"model", "gpt-5.5"},
           {"input", {{{"role", "user"}, {"content", {{{"type", "input_text"}, {"text", text}}}}}}}}
        .dump();
    t.request_id = "req-" + std::to_string(id);
    t.pool_id = "pool-1";
    t.route = "/backend-api/codex/responses";
    t.model = "gpt-5.5";
    return t;
  }

  caf::actor_system_config config;
  std::optional<caf::actor_system> system;
  test::fake_upstream upstream{0, 1};
  system_clock_source clock;
  metrics::registry registry;
  gateway_metrics metrics{registry};
  settings_snapshot snapshot;
  std::shared_ptr<int> logged = std::make_shared<int>(0);
  attempt_sink_actor pool;
  request_log_actor log;
  lease_source_actor directory;
  registered_stream_actor stream;
  std::optional<stream_deps> deps;
};

/// Everything a connection received, in order.
struct received {
  std::vector<std::pair<uint64_t, std::string>> frames; ///< (turn, type)
  std::vector<stream_turn_done> done;
  std::vector<std::string> closed;
};

/// `self` playing a client connection (a blocking actor has no typed interface; it receives
/// what `collect` handles).
stream_connection_actor as_connection(caf::scoped_actor& self) {
  return caf::actor_cast<stream_connection_actor>(self);
}

/// Receives as `self` until `until` holds (bounded by `wait`), acknowledging frames when `ack`.
template <class Until>
received collect(caf::scoped_actor& self, const stream_actor& stream, bool ack, Until until,
                 received got = {}) {
  bool timed_out = false;
  while (!until(got) && !timed_out) {
    self->receive(
      [&](stream_frame& frame) {
        got.frames.emplace_back(frame.turn_id,
                                json::parse(frame.text).value("type", std::string{}));
        if (ack) {
          self->send(stream, stream_ack{frame.seq});
        }
      },
      [&](stream_turn_done& done) { got.done.push_back(done); },
      [&](stream_closed& closed) { got.closed.push_back(closed.reason); },
      caf::after(wait) >> [&] { timed_out = true; });
  }
  return got;
}

} // namespace

TEST_CASE("turns run one at a time in order, and a new connection reuses the upstream socket",
          "[unit][actors][stream]") {
  stream_fixture f;
  caf::scoped_actor first{*f.system};
  first->send(f.stream, stream_attach{as_connection(first), 1, {{"session-id", "s-1"}}});
  first->send(f.stream, f.turn(1, 1, "one"));
  first->send(f.stream, f.turn(1, 2, "two"));
  auto got = collect(first, f.stream, true, [](const received& r) { return r.done.size() == 2; });
  REQUIRE(got.done.size() == 2);
  CHECK(got.done[0].turn_id == 1);
  CHECK(got.done[1].turn_id == 2);
  CHECK(got.done[0].ok);
  CHECK(got.done[0].account_id == "acct-1");
  // Every frame of turn 1 precedes every frame of turn 2; each turn starts with its prelude.
  REQUIRE_FALSE(got.frames.empty());
  CHECK(got.frames.front() == std::pair<uint64_t, std::string>{1, "response.created"});
  bool in_second = false;
  for (const auto& [turn, type] : got.frames) {
    in_second = in_second || turn == 2;
    CHECK(turn == (in_second ? 2u : 1u));
  }
  CHECK(got.frames.back().second == "response.completed");

  caf::scoped_actor second{*f.system};
  second->send(f.stream, stream_attach{as_connection(second), 2, {}});
  auto replaced =
    collect(first, f.stream, false, [](const received& r) { return !r.closed.empty(); });
  REQUIRE(replaced.closed == std::vector<std::string>{"replaced"});
  second->send(f.stream, f.turn(2, 1, "three"));
  auto more = collect(second, f.stream, true, [](const received& r) { return !r.done.empty(); });
  REQUIRE(more.done.size() == 1);
  CHECK(more.done[0].ok);

  auto connections = f.upstream.websocket_connections();
  REQUIRE(connections.size() == 1);
  REQUIRE(connections[0].turns.size() == 3);
  CHECK(connections[0].turns[2]["input_text"] == "three\n");
  CHECK(connections[0].overlapping_creates == 0);
}

TEST_CASE("no more than the ack window of frames is in flight to a connection",
          "[unit][actors][stream]") {
  stream_fixture f;
  caf::scoped_actor self{*f.system};
  self->send(f.stream, stream_attach{as_connection(self), 1, {}});
  constexpr uint64_t turns = 12; // 8 frames each: more than the window
  for (uint64_t i = 1; i <= turns; ++i) {
    self->send(f.stream, f.turn(1, i, "t" + std::to_string(i)));
  }
  // Without acknowledgements the stream stops once the window is full.
  received got;
  bool quiet = false;
  while (!quiet) {
    self->receive(
      [&](stream_frame& frame) { got.frames.emplace_back(frame.turn_id, std::string{}); },
      [&](stream_turn_done& done) { got.done.push_back(done); },
      caf::after(std::chrono::milliseconds{500}) >> [&] { quiet = true; });
  }
  CHECK(got.frames.size() >= stream_ack_window);
  CHECK(got.frames.size() <= stream_ack_window + 3); // held prelude frames go out together
  CHECK(got.done.size() < turns);
  // Acknowledging releases the rest.
  self->send(f.stream, stream_ack{got.frames.size()});
  auto rest = collect(self, f.stream, true,
                      [&](const received& r) { return got.done.size() + r.done.size() == turns; });
  CHECK(got.done.size() + rest.done.size() == turns);
  CHECK(f.upstream.websocket_connections().at(0).turns.size() == turns);
}

TEST_CASE("a detached stream keeps its socket for the owner window, then closes it and quits",
          "[unit][actors][stream]") {
  stream_fixture f{{{"gateway.websocket_owner_idle_timeout_ms", "1000"}}};
  caf::scoped_actor self{*f.system};
  self->monitor(f.stream);
  self->send(f.stream, stream_attach{as_connection(self), 1, {}});
  self->send(f.stream, f.turn(1, 1, "one"));
  auto got = collect(self, f.stream, true, [](const received& r) { return !r.done.empty(); });
  REQUIRE(got.done.size() == 1);
  const auto detached = std::chrono::steady_clock::now();
  self->send(f.stream, stream_detach{1});
  bool down = false;
  self->receive([&](caf::down_msg& msg) { down = msg.source == f.stream.address(); },
                caf::after(wait) >> [] {});
  REQUIRE(down);
  CHECK(std::chrono::steady_clock::now() - detached >= std::chrono::milliseconds{900});
  // The fake sees the socket end (bounded wait: the close travels asynchronously).
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (f.upstream.websocket_connections().at(0).open
         && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  CHECK_FALSE(f.upstream.websocket_connections().at(0).open);
  CHECK(*f.logged == 1);
}

TEST_CASE("frames of a turn whose connection went away never reach the next connection",
          "[unit][actors][stream]") {
  stream_fixture f;
  test::account_script slow;
  slow.account_id = "acct-1";
  slow.access_token = "token-1";
  slow.refresh_token = "rt-1";
  slow.ws_event_interval_ms = 300; // 8 frames: the tail is still upstream when the client goes
  f.upstream.set_account(slow);
  caf::scoped_actor first{*f.system};
  first->send(f.stream, stream_attach{as_connection(first), 1, {}});
  first->send(f.stream, f.turn(1, 1, "abandoned"));
  auto part = collect(first, f.stream, true, [](const received& r) { return !r.frames.empty(); });
  REQUIRE_FALSE(part.frames.empty());

  // A new connection of the session (its turn ids start at 1 again) sends its turn mid-answer.
  caf::scoped_actor second{*f.system};
  second->send(f.stream, stream_attach{as_connection(second), 2, {}});
  second->send(f.stream, f.turn(2, 1, "new"));
  auto got = collect(second, f.stream, true, [](const received& r) { return !r.done.empty(); });
  REQUIRE(got.done.size() == 1);
  CHECK(got.done[0].ok);
  REQUIRE_FALSE(got.frames.empty());
  CHECK(got.frames.front().second == "response.created");
  CHECK(got.frames.back().second == "response.completed");
  CHECK(std::count_if(got.frames.begin(), got.frames.end(),
                      [](const auto& frame) { return frame.second == "response.completed"; })
        == 1);
  // The abandoned answer was cut off upstream: its socket closed, the new turn on a new one.
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (f.upstream.websocket_connections().at(0).open
         && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  auto connections = f.upstream.websocket_connections();
  REQUIRE(connections.size() == 2);
  CHECK_FALSE(connections[0].open);
  REQUIRE(connections[1].turns.size() == 1);
  CHECK(connections[1].turns[0]["input_text"] == "new\n");
  // The first connection heard that it was replaced, and never its turn's end.
  auto old = collect(first, f.stream, false, [](const received& r) { return !r.closed.empty(); });
  CHECK(old.closed == std::vector<std::string>{"replaced"});
  CHECK(old.done.empty());
}
