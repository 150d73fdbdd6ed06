// Faults are visible, never disguised (issue 13, item 7): a stream the upstream cuts, lets go
// idle or garbles ends with an error event; a malformed answer before the first byte is a
// failover signal; an upstream credential failure is never the client's 401; a storage fault
// degrades and never kills the node. Every case ends with an ordinary request that must succeed.
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;
using test::pooler_fixture;

namespace {

pooler_fixture::options on(test::backend database, int accounts = 2,
                           std::vector<std::string> settings = {}) {
  pooler_fixture::options opts;
  opts.database = database;
  opts.accounts = accounts;
  opts.settings = std::move(settings);
  return opts;
}

/// The `data:` payloads of an SSE body, parsed (non-JSON data kept as strings).
std::vector<json> events_of(const std::string& body) {
  std::vector<json> events;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const auto end = body.find('\n', at);
    const auto data = body.substr(at + 6, end - at - 6);
    auto parsed = json::parse(data, nullptr, false);
    events.push_back(parsed.is_discarded() ? json(data) : parsed);
    at = end;
  }
  return events;
}

/// The `response.failed` event a cut native stream ends with: the last event, with no
/// `response.completed` anywhere before it. Returns its error code.
std::string cut_code(const test::http_result& answer) {
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  CHECK(answer.body.find("response.completed") == std::string::npos);
  const auto events = events_of(answer.body);
  REQUIRE_FALSE(events.empty());
  const auto& last = events.back();
  REQUIRE(last.is_object());
  CHECK(last["type"] == "response.failed");
  CHECK(last["response"]["status"] == "failed");
  CHECK(last["response"]["error"]["message"].get<std::string>().find("incomplete")
        != std::string::npos);
  // The event is framed on its own, after a complete event.
  CHECK(answer.body.find("\n\nevent: response.failed\ndata: ") != std::string::npos);
  return last["response"]["error"]["code"].get<std::string>();
}

/// Our error envelope's code (fails the test when the body is not one).
std::string envelope_code(const test::http_result& answer) {
  INFO(answer.body);
  auto body = json::parse(answer.body, nullptr, false);
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  REQUIRE(body["error"].is_object());
  REQUIRE(body["error"]["code"].is_string());
  return body["error"]["code"].get<std::string>();
}

int turn_requests(pooler_fixture& f, int accounts) {
  int requests = 0;
  for (int i = 1; i <= accounts; ++i) {
    requests += f.upstream().counters("acct-" + std::to_string(i)).turn_requests;
  }
  return requests;
}

void heal(pooler_fixture& f, int accounts) {
  for (int i = 1; i <= accounts; ++i) {
    f.script("acct-" + std::to_string(i), [](auto& s) {
      auto healthy = test::make_account_script(s.account_id);
      healthy.access_token = s.access_token;
      healthy.refresh_token = s.refresh_token;
      s = healthy;
    });
  }
}

/// The node still serves an ordinary turn (once open circuits, if any, let traffic through).
void serves_next(pooler_fixture& f) {
  auto answer = f.turn();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{15};
  while (answer.status == 503 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds{250});
    answer = f.turn();
  }
  INFO(answer.body);
  CHECK(answer.status == 200);
  CHECK(answer.body.find("response.completed") != std::string::npos);
  CHECK(answer.body.find("response.failed") == std::string::npos);
}

/// Turns the fake received for `account`, authorized or not.
int turns_sent_to(pooler_fixture& f, const std::string& account) {
  int count = 0;
  for (const auto& request : f.upstream().recorded()) {
    const auto id = request.headers.find("chatgpt-account-id");
    count += request.target == "/backend-api/codex/responses" && id != request.headers.end()
             && id->second == account;
  }
  return count;
}

test::http_result v1_chat(pooler_fixture& f, bool stream) {
  json body = {{"model", "gpt-5.5"}, {"messages", {{{"role", "user"}, {"content", "say hi"}}}}};
  if (stream) {
    body["stream"] = true;
  }
  return test::http_request(
    f.gateway().port(), "POST", "/v1/chat/completions", body.dump(),
    {{"authorization", "Bearer " + f.api_key()}, {"content-type", "application/json"}});
}

} // namespace

TEST_CASE("a native stream the upstream cuts after its first byte ends with response.failed",
          "[integration][faults]") {
  pooler_fixture f{on(test::backend::postgres)};
  for (const auto* account : {"acct-1", "acct-2"}) {
    f.script(account, [](auto& s) { s.abrupt_close_after_events = 5; });
  }
  auto answer = f.turn();
  CHECK(answer.body.find("hello from acct-") != std::string::npos); // the partial text went out
  CHECK(cut_code(answer) == "stream_incomplete");
  CHECK(turn_requests(f, 2) == 1); // committed: never replayed
  auto logs = f.request_logs(1);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0]["outcome"] == "failed");
  CHECK(logs[0]["error_code"] == "stream_incomplete");
  heal(f, 2);
  serves_next(f);
}

TEST_CASE("a native stream the upstream lets go idle ends with response.failed",
          "[integration][faults]") {
  pooler_fixture f{on(test::backend::postgres, 2, {"gateway.upstream_receive_timeout_ms=1000"})};
  for (const auto* account : {"acct-1", "acct-2"}) {
    f.script(account, [](auto& s) { s.stall_after_events = 5; });
  }
  auto answer = f.turn();
  CHECK(cut_code(answer) == "stream_idle_timeout");
  CHECK(turn_requests(f, 2) == 1);
  heal(f, 2);
  serves_next(f);
}

TEST_CASE("a quiet stream gets keep-alive comments between events until it resumes or ends",
          "[integration][faults]") {
  pooler_fixture f{
    on(test::backend::postgres, 1,
       {"gateway.upstream_receive_timeout_ms=1000", "gateway.sse_keepalive_interval_ms=150"})};
  f.script("acct-1", [](auto& s) { s.stall_after_events = 5; });
  auto answer = f.turn();
  CHECK(cut_code(answer) == "stream_idle_timeout");
  // About 1000 / 150 quiet intervals; each comment only ever follows a complete event.
  size_t comments = 0;
  for (auto at = answer.body.find(": keepalive\n\n"); at != std::string::npos;
       at = answer.body.find(": keepalive\n\n", at + 1)) {
    ++comments;
    CHECK(answer.body.compare(at - 2, 2, "\n\n") == 0);
  }
  CHECK(comments >= 4);
  CHECK(comments <= 8);
}

TEST_CASE("a malformed event after the first byte ends the stream with response.failed",
          "[integration][faults]") {
  pooler_fixture f{on(test::backend::postgres)};
  for (const auto* account : {"acct-1", "acct-2"}) {
    f.script(account, [](auto& s) { s.garbage_after_events = 5; });
  }
  auto answer = f.turn();
  CHECK(cut_code(answer) == "upstream_malformed_event");
  CHECK(answer.body.find("Bad Gateway") == std::string::npos); // the garbage is not relayed
  CHECK(turn_requests(f, 2) == 1);
  heal(f, 2);
  serves_next(f);
}

TEST_CASE("malformed answers before the first byte fail over and end in a 502 when none is good",
          "[integration][faults]") {
  struct malformed_case {
    const char* name;
    std::function<void(test::account_script&)> script;
  };
  const auto broken = GENERATE(values<malformed_case>({
    {"garbage_sse",
     [](auto& s) {
       s.garbage_sse = true;
     }},
    {"garbage_first_event",
     [](auto& s) {
       s.garbage_after_events = 0;
     }},
    {"json_as_sse",
     [](auto& s) {
       s.json_as_sse = true;
     }},
    {"json_instead_of_sse",
     [](auto& s) {
       s.json_instead_of_sse = true;
     }},
  }));
  INFO(broken.name);
  // Circuits stay closed, so every request below reaches the accounts (an open circuit would
  // answer 503 no_eligible_account without trying them).
  pooler_fixture f{on(test::backend::postgres, 3, {"gateway.circuit_failure_threshold=100"})};
  f.script("acct-1", broken.script);
  f.script("acct-2", broken.script);
  // Whichever the ring tries first, the healthy account answers.
  for (int i = 0; i < 3; ++i) {
    auto answer = f.turn({{"session-id", "malformed-" + std::to_string(i)}});
    INFO(answer.body);
    REQUIRE(answer.status == 200);
    CHECK(answer.body.find("hello from acct-3") != std::string::npos);
    CHECK(answer.body.find("Bad Gateway") == std::string::npos);
    CHECK(answer.body.find("response.failed") == std::string::npos);
  }

  f.script("acct-3", broken.script);
  auto native = f.turn({{"session-id", "malformed-all"}});
  CHECK(native.status == 502);
  CHECK(envelope_code(native) == "upstream_request_failed");
  CHECK(native.headers["content-type"].find("application/json") != std::string::npos);
  auto chat = v1_chat(f, false);
  CHECK(chat.status == 502);
  CHECK(envelope_code(chat) == "upstream_request_failed");
  auto streamed_chat = v1_chat(f, true);
  CHECK(streamed_chat.status == 502);
  CHECK(envelope_code(streamed_chat) == "upstream_request_failed");

  heal(f, 3);
  serves_next(f);
}

TEST_CASE("/v1 chat reports a cut stream as an error chunk, never as a finished answer",
          "[integration][faults][v1]") {
  pooler_fixture f{on(test::backend::postgres)};
  for (const auto* account : {"acct-1", "acct-2"}) {
    f.script(account, [](auto& s) { s.abrupt_close_after_events = 5; });
  }
  auto streamed = v1_chat(f, true);
  INFO(streamed.body);
  REQUIRE(streamed.status == 200);
  const auto events = events_of(streamed.body);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back()["error"]["code"] == "stream_incomplete");
  CHECK(streamed.body.find("[DONE]") == std::string::npos);

  auto collected = v1_chat(f, false);
  CHECK(collected.status == 502);
  CHECK(envelope_code(collected) == "stream_incomplete");
  heal(f, 2);
  serves_next(f);
}

TEST_CASE("upstream credential failures are never relayed as the client's 401",
          "[integration][faults][refresh]") {
  struct credential_case {
    const char* name;
    std::function<void(test::account_script&)> script;
  };
  const auto broken = GENERATE(values<credential_case>({
    {"token_expired_and_token_endpoint_down",
     [](auto& s) {
       s.access_token_expired = true;
       s.refresh_down = true;
     }},
    {"every_token_refused",
     [](auto& s) {
       s.always_unauthorized = true;
     }},
  }));
  INFO(broken.name);
  pooler_fixture f{on(test::backend::postgres, 2, {"gateway.circuit_open_seconds=1"})};
  f.script("acct-1", broken.script);
  f.script("acct-2", broken.script);
  auto native = f.turn();
  INFO(native.body);
  CHECK(native.status != 401);
  CHECK((native.status == 502 || native.status == 503));
  const auto code = envelope_code(native);
  CHECK((code == "upstream_request_failed" || code == "no_eligible_account"));
  CHECK(native.body.find("token_expired") == std::string::npos);
  CHECK(turns_sent_to(f, "acct-1") >= 1); // every account was tried
  CHECK(turns_sent_to(f, "acct-2") >= 1);

  auto chat = v1_chat(f, false);
  CHECK(chat.status != 401);
  CHECK(chat.body.find("token_expired") == std::string::npos);

  heal(f, 2);
  serves_next(f); // the next lease refreshes the accounts' tokens
}

namespace {

/// Makes `files` unwritable (or writable again) for the gateway: immutable when we run as root
/// (root ignores modes), read-only modes otherwise. False when this system cannot do it.
bool set_unwritable(const std::vector<std::string>& files, bool unwritable) {
  for (const auto& file : files) {
    if (!std::filesystem::exists(file)) {
      continue;
    }
    if (::geteuid() == 0) {
      if (test::run_program({"chattr", unwritable ? "+i" : "-i", file}).exit_code != 0) {
        return false;
      }
      continue;
    }
    const bool directory = std::filesystem::is_directory(file);
    const auto mode = unwritable ? (directory ? 0555 : 0444) : (directory ? 0700 : 0600);
    std::filesystem::permissions(file, static_cast<std::filesystem::perms>(mode));
  }
  return true;
}

} // namespace

TEST_CASE("read-only SQLite files degrade the node and never kill it",
          "[integration][faults][storage]") {
  pooler_fixture f{on(test::backend::sqlite)};
  REQUIRE(f.turn().status == 200);
  const auto path = f.database().url().substr(std::string{"sqlite://"}.size());
  const std::vector<std::string> files{path, path + "-wal", path + "-shm",
                                       std::filesystem::path{path}.parent_path().string()};
  if (!set_unwritable(files, true)) {
    set_unwritable(files, false);
    WARN("cannot make files unwritable here (chattr refused); skipped");
    return;
  }
  int served = 1;
  int unavailable = 0;
  // Past the key cache (2 s), so requests need the database; background writers (request log,
  // heartbeats, quota) hit the files meanwhile.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{4};
  while (std::chrono::steady_clock::now() < until) {
    auto answer = f.turn();
    INFO(answer.body);
    CHECK((answer.status == 200 || answer.status == 503));
    if (answer.status == 503) {
      ++unavailable;
      CHECK(envelope_code(answer) == "database_unavailable");
    } else {
      ++served;
    }
    CHECK(test::http_get(f.gateway().port(), "/healthz").status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  CHECK(unavailable > 0);
  CHECK(test::http_get(f.gateway().port(), "/readyz").status == 503);
  CHECK(f.gateway().output().find("storage fault") != std::string::npos);
  REQUIRE(set_unwritable(files, false));

  // A database call already running when the files turned read-only may have written into the
  // shared-memory mapping: the SIGBUS was rescued, but the process's view of that page is private
  // now, so the node keeps refusing until it restarts (a race this test cannot steer).
  if (f.gateway().output().find("restart the process") != std::string::npos) {
    std::this_thread::sleep_for(std::chrono::seconds{1});
    auto refused = f.turn();
    CHECK(refused.status == 503);
    CHECK(envelope_code(refused) == "database_unavailable");
    CHECK(test::http_get(f.gateway().port(), "/readyz").status == 503);
    CHECK(test::http_get(f.gateway().port(), "/healthz").status == 200);
    f.restart_gateway();
    CHECK(f.turn().status == 200);
    return;
  }

  // Writable again: the node serves, and the request logs held meanwhile are written.
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{15};
  while (status != 200 && std::chrono::steady_clock::now() < give_up) {
    status = f.turn().status;
    served += status == 200 ? 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  CHECK(status == 200);
  CHECK(f.request_logs(static_cast<size_t>(served)).size() >= static_cast<size_t>(served));
  CHECK(f.gateway().stop(SIGTERM, std::chrono::seconds{10}) == 0);
}
