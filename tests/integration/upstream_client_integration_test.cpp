#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/upstream/upstream_client.hpp"
#include "tests/fake_upstream/fake_upstream.hpp"

namespace {

using namespace std::chrono_literals;
using cxp::actors::upstream_client;
using cxp::actors::upstream_client_options;
using cxp::actors::upstream_failure;
using cxp::actors::upstream_head;
using cxp::actors::upstream_reply;
using cxp::actors::upstream_request;
using cxp::actors::upstream_stream_handler;
using cxp::test::account_script;
using cxp::test::fake_upstream;
using json = nlohmann::json;

constexpr auto wait_limit = 15s;

account_script make_account(const std::string& id) {
  account_script script;
  script.account_id = id;
  script.access_token = "at-" + id;
  script.refresh_token = "rt-" + id;
  return script;
}

struct started_upstream {
  fake_upstream upstream;
  started_upstream() {
    auto error = upstream.start();
    REQUIRE_FALSE(error.has_value());
    upstream.set_account(make_account("acct-1"));
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(upstream.port()); }
  void script(const std::function<void(account_script&)>& change) {
    auto s = make_account("acct-1");
    change(s);
    upstream.set_account(s);
  }
};

upstream_request turn_request(const std::string& base) {
  upstream_request request;
  request.url = base + "/backend-api/codex/responses";
  request.headers = {{"authorization", "Bearer at-acct-1"},
                     {"chatgpt-account-id", "acct-1"},
                     {"content-type", "application/json"},
                     {"accept", "text/event-stream"}};
  request.body =
    json{{"model", "gpt-5.5"}, {"stream", true}, {"store", false}, {"input", json::array()}}.dump();
  return request;
}

/// Collects the callbacks of one streamed call. With `auto_resume` off the test holds the
/// `resume` functions and releases them itself.
struct stream_probe {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<upstream_head> head;
  std::vector<std::string> chunks;
  std::vector<bool> completes; ///< each chunk's `body_complete`
  std::vector<std::function<void()>> pending_resumes;
  std::optional<std::optional<upstream_failure>> done;
  bool auto_resume = true;
  bool chunk_before_head = false;
  bool overlapping = false;
  bool in_callback = false;

  upstream_stream_handler handler() {
    upstream_stream_handler h;
    h.on_head = [this](upstream_head received) {
      std::lock_guard lock{mutex};
      enter();
      head = std::move(received);
      leave();
    };
    h.on_chunk = [this](std::string chunk, bool body_complete, std::function<void()> resume) {
      std::unique_lock lock{mutex};
      enter();
      chunk_before_head = chunk_before_head || !head;
      chunks.push_back(std::move(chunk));
      completes.push_back(body_complete);
      leave();
      if (auto_resume) {
        lock.unlock();
        resume();
      } else {
        pending_resumes.push_back(std::move(resume));
        changed.notify_all();
      }
    };
    h.on_done = [this](std::optional<upstream_failure> failure) {
      std::lock_guard lock{mutex};
      enter();
      done = failure;
      leave();
    };
    return h;
  }

  void enter() {
    overlapping = overlapping || in_callback;
    in_callback = true;
  }
  void leave() {
    in_callback = false;
    changed.notify_all();
  }

  bool wait_done() {
    std::unique_lock lock{mutex};
    return changed.wait_for(lock, wait_limit, [this] { return done.has_value(); });
  }
  bool wait_chunks(size_t count) {
    std::unique_lock lock{mutex};
    return changed.wait_for(lock, wait_limit, [&] { return chunks.size() >= count || done; });
  }
  std::string body() {
    std::lock_guard lock{mutex};
    std::string out;
    for (const auto& chunk : chunks) {
      out += chunk;
    }
    return out;
  }
};

struct fetch_probe {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<std::optional<upstream_failure>> failure;
  upstream_reply reply;
  std::thread::id thread;

  std::function<void(std::optional<upstream_failure>, upstream_reply)> callback() {
    return [this](std::optional<upstream_failure> f, upstream_reply r) {
      std::lock_guard lock{mutex};
      failure = f;
      reply = std::move(r);
      thread = std::this_thread::get_id();
      changed.notify_all();
    };
  }
  bool wait() {
    std::unique_lock lock{mutex};
    return changed.wait_for(lock, wait_limit, [this] { return failure.has_value(); });
  }
};

/// A port with no listener (bound and released at once).
uint16_t unused_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor{ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

/// Answers the first request with fixed bytes and then holds the connection open: stalls and
/// garbage the fake upstream cannot script.
class raw_server {
public:
  explicit raw_server(std::string reply) : reply_(std::move(reply)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        return;
      }
      socket_ = std::move(socket);
      boost::asio::async_read_until(*socket_, boost::asio::dynamic_buffer(request_), "\r\n\r\n",
                                    [this](boost::system::error_code ec2, size_t) {
                                      if (!ec2) {
                                        boost::asio::async_write(
                                          *socket_, boost::asio::buffer(reply_),
                                          [](boost::system::error_code, size_t) {});
                                      }
                                    });
    });
    thread_ = std::thread{[this] {
      ioc_.run();
    }};
  }
  ~raw_server() {
    ioc_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }

private:
  using tcp = boost::asio::ip::tcp;
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::optional<tcp::socket> socket_;
  std::string request_;
  std::string reply_;
  std::thread thread_;
};

/// "ok", the failure name, or "pending", so mismatches print readably.
std::string outcome(const std::optional<std::optional<upstream_failure>>& done) {
  if (!done) {
    return "pending";
  }
  return *done ? std::string{cxp::actors::to_string(**done)} : "ok";
}

} // namespace

TEST_CASE("upstream_client streams an SSE turn from the fake upstream", "[upstream_client]") {
  started_upstream f;
  stream_probe probe; // outlives the client, whose callbacks point at it
  upstream_client client;
  client.stream(turn_request(f.base()), probe.handler());
  REQUIRE(probe.wait_done());
  CHECK(outcome(probe.done) == "ok");
  REQUIRE(probe.head.has_value());
  CHECK(probe.head->status == 200);
  CHECK(probe.head->header("content-type") == "text/event-stream");
  CHECK_FALSE(probe.head->header("x-codex-primary-used-percent").empty());
  CHECK_FALSE(probe.chunk_before_head);
  CHECK_FALSE(probe.overlapping);
  auto body = probe.body();
  CHECK(body.find("event: response.created") != std::string::npos);
  CHECK(body.find("response.completed") != std::string::npos);
  // Beast removed the chunked framing: the body ends with the last SSE event.
  CHECK(body.substr(body.size() - 2) == "\n\n");
  // The chunk that ends the body says so, and only that one.
  REQUIRE_FALSE(probe.completes.empty());
  CHECK(probe.completes.back());
  CHECK(std::count(probe.completes.begin(), probe.completes.end(), true) == 1);
  auto recorded = f.upstream.recorded();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].headers["host"] == "127.0.0.1:" + std::to_string(f.upstream.port()));
  CHECK(json::parse(recorded[0].body)["model"] == "gpt-5.5");
}

TEST_CASE("upstream_client reuses a kept-alive connection", "[upstream_client]") {
  started_upstream f;
  upstream_client client;
  for (int i = 0; i < 2; ++i) {
    stream_probe probe;
    client.stream(turn_request(f.base()), probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "ok");
    CHECK(probe.head->status == 200);
  }
  // A second connection would have left two parked.
  CHECK(client.idle_connections() == 1);
  CHECK(f.upstream.recorded().size() == 2);
  CHECK(f.upstream.counters("acct-1").turns_served == 2);
}

TEST_CASE("upstream_client retries once when a parked connection fails before the head",
          "[upstream_client]") {
  started_upstream f;
  upstream_client client;
  stream_probe first;
  client.stream(turn_request(f.base()), first.handler());
  REQUIRE(first.wait_done());
  REQUIRE(client.idle_connections() == 1);
  f.script([](account_script& s) { s.close_before_headers = true; });
  stream_probe second;
  client.stream(turn_request(f.base()), second.handler());
  REQUIRE(second.wait_done());
  CHECK(outcome(second.done) == "closed_before_head");
  // The parked connection and exactly one fresh one.
  CHECK(f.upstream.counters("acct-1").turn_requests == 2);
  CHECK(client.idle_connections() == 0);
}

TEST_CASE("upstream_client reports scripted upstream failures", "[upstream_client]") {
  started_upstream f;
  stream_probe probe; // outlives the client, whose callbacks point at it
  upstream_client client;
  auto request = turn_request(f.base());

  SECTION("close before headers") {
    f.script([](account_script& s) { s.close_before_headers = true; });
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "closed_before_head");
    CHECK_FALSE(probe.head.has_value());
    CHECK(f.upstream.counters("acct-1").turn_requests == 1); // a fresh connection: no retry
  }
  SECTION("abrupt close after two events") {
    f.script([](account_script& s) { s.abrupt_close_after_events = 2; });
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "closed_mid_body");
    REQUIRE(probe.head.has_value());
    CHECK(probe.head->status == 200);
    CHECK(probe.body().find("response.completed") == std::string::npos);
    CHECK(std::count(probe.completes.begin(), probe.completes.end(), true) == 0);
  }
  SECTION("first byte later than the first-byte timeout") {
    f.script([](account_script& s) { s.delay_first_byte_ms = 3000; });
    request.timeouts.first_byte = 200ms;
    auto started = std::chrono::steady_clock::now();
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "first_byte_timeout");
    CHECK_FALSE(probe.head.has_value());
    CHECK(std::chrono::steady_clock::now() - started < 2500ms);
  }
  SECTION("a 5xx answer is streamed like any other status") {
    f.script([](account_script& s) { s.status_5xx = 503; });
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "ok");
    REQUIRE(probe.head.has_value());
    CHECK(probe.head->status == 503);
    CHECK(probe.body().find("server_is_overloaded") != std::string::npos);
  }
  CHECK_FALSE(probe.overlapping);
}

TEST_CASE("upstream_client reads on only after resume", "[upstream_client]") {
  started_upstream f;
  // A reply far larger than one 16 KiB read, so the body needs many reads.
  f.script([](account_script& s) { s.reply_text = std::string(200'000, 'x'); });
  stream_probe probe; // outlives the client, whose callbacks point at it
  upstream_client client;
  probe.auto_resume = false;
  client.stream(turn_request(f.base()), probe.handler());
  REQUIRE(probe.wait_chunks(1));
  std::this_thread::sleep_for(200ms); // the backpressure window itself, not a wait for a result
  std::function<void()> resume;
  {
    std::lock_guard lock{probe.mutex};
    CHECK(probe.chunks.size() == 1);
    CHECK_FALSE(probe.done.has_value());
    REQUIRE(probe.pending_resumes.size() == 1);
    resume = probe.pending_resumes.front();
    probe.pending_resumes.clear();
    probe.auto_resume = true;
  }
  std::thread{resume}.join(); // resume from a foreign thread
  REQUIRE(probe.wait_done());
  CHECK(outcome(probe.done) == "ok");
  CHECK(probe.chunks.size() > 2);
  CHECK(probe.completes.back());
  CHECK(std::count(probe.completes.begin(), probe.completes.end(), true) == 1);
  auto body = probe.body();
  CHECK(body.find(std::string(200'000, 'x')) != std::string::npos);
  CHECK(body.find("response.completed") != std::string::npos);
  resume(); // a stale resume after completion does nothing
}

TEST_CASE("upstream_client fetches a whole JSON answer", "[upstream_client]") {
  started_upstream f;
  upstream_client_options options;
  upstream_request request;
  request.method = boost::beast::http::verb::get;
  request.url = f.base() + "/backend-api/codex/models?client_version=0.169.0";
  request.headers = {{"authorization", "Bearer at-acct-1"}, {"chatgpt-account-id", "acct-1"}};
  fetch_probe probe;

  SECTION("within the body limit") {
    upstream_client client{options};
    client.fetch(request, probe.callback());
    REQUIRE(probe.wait());
    CHECK(outcome(probe.failure) == "ok");
    CHECK(probe.reply.head.status == 200);
    CHECK(probe.reply.head.header("etag") == "fake-etag-1");
    auto body = json::parse(probe.reply.body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    REQUIRE(body["models"].is_array());
    CHECK(std::any_of(body["models"].begin(), body["models"].end(),
                      [](const json& m) { return m["slug"] == "gpt-fake"; }));
    auto recorded = f.upstream.recorded();
    REQUIRE(recorded.size() == 1);
    CHECK(recorded[0].target == "/backend-api/codex/models?client_version=0.169.0");
    CHECK(client.idle_connections() == 1);
  }
  SECTION("over the body limit") {
    options.max_unary_body_bytes = 100;
    upstream_client client{options};
    client.fetch(request, probe.callback());
    REQUIRE(probe.wait());
    CHECK(outcome(probe.failure) == "body_too_large");
    CHECK(client.idle_connections() == 0);
  }
  SECTION("a non-2xx status is an answer, not a failure") {
    request.headers = {{"authorization", "Bearer wrong"}, {"chatgpt-account-id", "acct-1"}};
    upstream_client client{options};
    client.fetch(request, probe.callback());
    REQUIRE(probe.wait());
    CHECK(outcome(probe.failure) == "ok");
    CHECK(probe.reply.head.status == 401);
    CHECK(probe.reply.body.find("token_expired") != std::string::npos);
  }
}

TEST_CASE("upstream_client rejects bad URLs through the callback", "[upstream_client]") {
  fetch_probe probe;
  upstream_client client;
  auto url = GENERATE(as<std::string>{}, "ftp://example.com/", "http://", "not a url",
                      "http://host:99999/", "http://host:port/", "http://user@host/",
                      "http://host/pa th", "http://[::1/", "http://:80/");
  CAPTURE(url);
  upstream_request request;
  request.url = url;
  client.fetch(request, probe.callback());
  REQUIRE(probe.wait());
  CHECK(outcome(probe.failure) == "bad_url");
  CHECK(probe.thread != std::this_thread::get_id());
}

TEST_CASE("upstream_client reports connect failures", "[upstream_client]") {
  stream_probe probe; // outlives the client, whose callbacks point at it
  upstream_client client;
  upstream_request request;
  request.timeouts.connect = 5s;

  SECTION("nothing listening") {
    request.url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
    client.stream(request, probe.handler());
  }
  SECTION("a TLS handshake with a plain HTTP server") {
    started_upstream f;
    request.url = "https://127.0.0.1:" + std::to_string(f.upstream.port()) + "/backend-api/";
    auto started = std::chrono::steady_clock::now();
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(std::chrono::steady_clock::now() - started < 4s); // the peer failed it, no timeout
  }
  REQUIRE(probe.wait_done());
  CHECK(outcome(probe.done) == "connect_failed");
  CHECK_FALSE(probe.head.has_value());
}

TEST_CASE("upstream_client reports a stalled body and unparseable answers", "[upstream_client]") {
  stream_probe probe;
  upstream_client client;
  upstream_request request;
  request.method = boost::beast::http::verb::get;

  SECTION("no body bytes within the idle timeout") {
    raw_server server{"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc"};
    request.url = server.url();
    request.timeouts.idle = 300ms;
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "idle_timeout");
    REQUIRE(probe.head.has_value());
    CHECK(probe.head->status == 200);
    CHECK(probe.body() == "abc");
  }
  SECTION("not HTTP") {
    raw_server server{"SPDY/9 banana\r\n\r\n"};
    request.url = server.url();
    client.stream(request, probe.handler());
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "protocol_error");
    CHECK_FALSE(probe.head.has_value());
  }
}

TEST_CASE("upstream_client cancels calls in flight", "[upstream_client]") {
  started_upstream f;
  stream_probe probe; // outlives the client, whose callbacks point at it
  upstream_client client;

  SECTION("while waiting for the head") {
    f.script([](account_script& s) { s.delay_first_byte_ms = 10'000; });
    auto started = std::chrono::steady_clock::now();
    auto call = client.stream(turn_request(f.base()), probe.handler());
    call->cancel();
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "cancelled");
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    call->cancel(); // after completion: nothing happens
  }
  SECTION("mid-stream, while the caller holds back resume") {
    f.script([](account_script& s) { s.reply_text = std::string(200'000, 'y'); });
    probe.auto_resume = false;
    auto call = client.stream(turn_request(f.base()), probe.handler());
    REQUIRE(probe.wait_chunks(1));
    std::thread{[call] {
      call->cancel();
    }}.join();
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "cancelled");
    CHECK(probe.head->status == 200);
    std::function<void()> resume;
    {
      std::lock_guard lock{probe.mutex};
      resume = probe.pending_resumes.at(0);
    }
    resume(); // after cancel: no more chunks, no second on_done
    CHECK(client.idle_connections() == 0);
  }
  SECTION("by stopping the client") {
    f.script([](account_script& s) { s.delay_first_byte_ms = 10'000; });
    client.stream(turn_request(f.base()), probe.handler());
    client.stop();
    REQUIRE(probe.wait_done());
    CHECK(outcome(probe.done) == "cancelled");
    stream_probe late;
    client.stream(turn_request(f.base()), late.handler());
    REQUIRE(late.wait_done());
    CHECK(outcome(late.done) == "cancelled");
    client.stop(); // idempotent
  }
  CHECK_FALSE(probe.overlapping);
}

TEST_CASE("upstream_failure names are the enumerator names", "[upstream_client]") {
  using cxp::actors::to_string;
  CHECK(to_string(upstream_failure::bad_url) == "bad_url");
  CHECK(to_string(upstream_failure::connect_failed) == "connect_failed");
  CHECK(to_string(upstream_failure::closed_before_head) == "closed_before_head");
  CHECK(to_string(upstream_failure::first_byte_timeout) == "first_byte_timeout");
  CHECK(to_string(upstream_failure::idle_timeout) == "idle_timeout");
  CHECK(to_string(upstream_failure::closed_mid_body) == "closed_mid_body");
  CHECK(to_string(upstream_failure::body_too_large) == "body_too_large");
  CHECK(to_string(upstream_failure::protocol_error) == "protocol_error");
  CHECK(to_string(upstream_failure::cancelled) == "cancelled");
}
