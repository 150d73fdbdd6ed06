// cxp-wsload: the websocket client behind bench/run-websocket-sessions (see bench/README.md).
//
//   hold   opens N client websockets (bounded concurrency), optionally runs one response.create
//          turn on each, keeps them open, prints one JSON line when every attempt has finished,
//          then holds until stdin reaches EOF (or --hold-s elapses) and prints a second line.
//   turns  one websocket, W warmup turns (retried until one completes: a forwarded session may
//          answer an error frame until the nodes see each other), then M sequential measured
//          turns; prints one JSON object with percentiles of the time to the first server frame
//          and to response.completed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include "bench/sample_stats.hpp"

namespace {

using cxp::bench::percentile;
using cxp::bench::rounded;

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::ordered_json; // keeps the documented key order
using clock_type = std::chrono::steady_clock;

constexpr const char* usage_text =
  R"(usage: cxp-wsload hold|turns --url ws://HOST:PORT/PATH [options]
  --header 'name: value'   extra upgrade header (repeatable), e.g. the bearer
  --frame-file F           the response.create frame to send (default: a one-message turn)
hold:
  --sessions N             websockets to open (default 10000)
  --concurrency C          upgrades (and first turns) in flight at once (default 64)
  --turn 0|1               run one turn on each session before counting it open (default 0)
  --hold-s S               close after S seconds; 0 = when stdin reaches EOF (default 0)
turns:
  --turns M                measured sequential turns (default 200)
  --warmup W               completed turns before measuring (default 3)
  --warmup-timeout-s T     give up when the warmup has not completed after T s (default 30)
prints JSON on stdout.
)";

constexpr auto io_timeout = std::chrono::seconds{30};

std::string default_frame() {
  return json{{"type", "response.create"},
              {"model", "gpt-5.5"},
              {"stream", true},
              {"store", false},
              {"input",
               {{{"type", "message"},
                 {"role", "user"},
                 {"content", {{{"type", "input_text"}, {"text", "say hi"}}}}}}}}
    .dump();
}

struct options {
  std::string mode;
  std::string host;
  std::string port;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string frame = default_frame();
  size_t sessions = 10000;
  size_t concurrency = 64;
  bool turn = false;
  double hold_s = 0;
  size_t turns = 200;
  size_t warmup = 3;
  double warmup_timeout_s = 30;
};

bool parse_url(std::string_view url, options& out, std::string& error) {
  constexpr std::string_view scheme = "ws://";
  if (!url.starts_with(scheme)) {
    error = "--url must start with ws:// (TLS is not supported)";
    return false;
  }
  url.remove_prefix(scheme.size());
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string{url.substr(slash)};
  auto colon = authority.rfind(':');
  out.host = std::string{authority.substr(0, colon)};
  out.port = colon == std::string_view::npos ? "80" : std::string{authority.substr(colon + 1)};
  if (out.host.empty() || out.port.empty()) {
    error = "--url has no host or port";
    return false;
  }
  return true;
}

std::optional<options> parse_options(int argc, char** argv, std::string& error) {
  options out;
  if (argc < 2) {
    error = "a mode is required";
    return std::nullopt;
  }
  out.mode = argv[1];
  if (out.mode != "hold" && out.mode != "turns") {
    error = "unknown mode " + out.mode;
    return std::nullopt;
  }
  bool have_url = false;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    std::string value = argv[++i];
    auto number = [&](double min) -> std::optional<double> {
      char* end = nullptr;
      double parsed = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !std::isfinite(parsed) || parsed < min) {
        error = flag + " must be a number >= " + std::to_string(min);
        return std::nullopt;
      }
      return parsed;
    };
    if (flag == "--url") {
      if (!parse_url(value, out, error)) {
        return std::nullopt;
      }
      have_url = true;
    } else if (flag == "--header") {
      auto colon = value.find(':');
      if (colon == std::string::npos || colon == 0) {
        error = "--header must be 'name: value'";
        return std::nullopt;
      }
      auto start = value.find_first_not_of(" \t", colon + 1);
      out.headers.emplace_back(value.substr(0, colon),
                               start == std::string::npos ? "" : value.substr(start));
    } else if (flag == "--frame-file") {
      std::ifstream in{value, std::ios::binary};
      if (!in) {
        error = "cannot read --frame-file " + value;
        return std::nullopt;
      }
      std::ostringstream content;
      content << in.rdbuf();
      out.frame = content.str();
    } else if (flag == "--sessions" || flag == "--concurrency" || flag == "--turns") {
      auto parsed = number(1);
      if (!parsed) {
        return std::nullopt;
      }
      (flag == "--sessions" ? out.sessions
                            : (flag == "--concurrency" ? out.concurrency : out.turns)) =
        static_cast<size_t>(*parsed);
    } else if (flag == "--warmup" || flag == "--turn") {
      auto parsed = number(0);
      if (!parsed) {
        return std::nullopt;
      }
      if (flag == "--warmup") {
        out.warmup = static_cast<size_t>(*parsed);
      } else {
        out.turn = *parsed != 0;
      }
    } else if (flag == "--hold-s" || flag == "--warmup-timeout-s") {
      auto parsed = number(0);
      if (!parsed) {
        return std::nullopt;
      }
      (flag == "--hold-s" ? out.hold_s : out.warmup_timeout_s) = *parsed;
    } else {
      error = "unknown option " + flag;
      return std::nullopt;
    }
  }
  if (!have_url) {
    error = "--url is required";
    return std::nullopt;
  }
  return out;
}

/// 10,000 sockets need more than the usual soft limit of 1024 descriptors: take the hard limit.
uint64_t raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

double to_ms(clock_type::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

json summary_of(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {{"p50", percentile(samples, 0.50)},
          {"p90", percentile(samples, 0.90)},
          {"p99", percentile(samples, 0.99)},
          {"max", samples.empty() ? 0.0 : rounded(samples.back())}};
}

std::string type_of(const std::string& text) {
  auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return {};
  }
  return parsed.value("type", std::string{});
}

bool ends_turn(const std::string& type) {
  return type == "response.completed" || type == "response.failed" || type == "error";
}

using ws_stream = websocket::stream<beast::tcp_stream>;

void decorate(ws_stream& ws, const options& opts) {
  ws.set_option(websocket::stream_base::decorator([&opts](websocket::request_type& req) {
    req.set("openai-beta", "responses_websockets=2026-02-06");
    req.set("originator", "codex_exec");
    req.set(beast::http::field::user_agent, "cxp-wsload");
    for (const auto& [name, value] : opts.headers) {
      req.set(name, value);
    }
  }));
  // No client-side idle pings: an idle session is what is measured.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = io_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
}

// ------------------------------------------------------------------------------------------------
// hold

struct hold_state {
  const options& opts;
  std::vector<tcp::endpoint> endpoints;
  std::vector<std::unique_ptr<ws_stream>> sockets; ///< the open sessions, kept until exit
  size_t next = 0;                                 ///< next session index to start
  size_t opened = 0;
  size_t failed = 0;
  size_t closed_by_server = 0; ///< open sessions the server closed during the hold
  bool holding = false;
  std::string first_error;
  std::vector<double> open_ms; ///< upgrade (and first turn) time per session
};

// GCC 12 mistakes asio's recycling operator new/delete of the coroutine frame for a mismatch
// (a false positive that comes and goes with inlining).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

/// Keeps a read pending on an open session so control frames (ping, close) are answered.
net::awaitable<void> watch(hold_state& state, ws_stream& ws) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  while (true) {
    co_await ws.async_read(buffer, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (state.holding) {
        ++state.closed_by_server;
        if (state.first_error.empty()) {
          state.first_error = "held session ended: " + ec.message() + " (close code "
                              + std::to_string(ws.reason().code) + ")";
        }
      }
      co_return;
    }
    buffer.clear();
  }
}

/// Opens sessions one after another until none are left (C of these run at once).
net::awaitable<void> opener(hold_state& state) {
  auto executor = co_await net::this_coro::executor;
  while (state.next < state.opts.sessions) {
    ++state.next;
    auto ws = std::make_unique<ws_stream>(executor);
    decorate(*ws, state.opts);
    beast::error_code ec;
    std::string what;
    const auto started = clock_type::now();
    beast::get_lowest_layer(*ws).expires_after(io_timeout);
    co_await beast::get_lowest_layer(*ws).async_connect(
      state.endpoints, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      what = "connect";
    } else {
      beast::get_lowest_layer(*ws).socket().set_option(tcp::no_delay{true}, ec);
      beast::get_lowest_layer(*ws).expires_never();
      websocket::response_type response;
      co_await ws->async_handshake(response, state.opts.host + ":" + state.opts.port,
                                   state.opts.target, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        what = "upgrade (HTTP " + std::to_string(response.result_int()) + ")";
      }
    }
    if (!ec && state.opts.turn) {
      ws->text(true);
      co_await ws->async_write(net::buffer(state.opts.frame),
                               net::redirect_error(net::use_awaitable, ec));
      beast::flat_buffer buffer;
      std::string type;
      while (!ec && !ends_turn(type)) {
        buffer.clear();
        co_await ws->async_read(buffer, net::redirect_error(net::use_awaitable, ec));
        if (!ec) {
          type = type_of(beast::buffers_to_string(buffer.data()));
        }
      }
      if (ec) {
        what = "first turn";
      } else if (type != "response.completed") {
        what = "first turn ended with " + type;
        ec = net::error::operation_aborted;
      }
    }
    if (ec) {
      ++state.failed;
      if (state.first_error.empty()) {
        state.first_error = what + ": " + ec.message();
      }
      continue;
    }
    state.open_ms.push_back(to_ms(clock_type::now() - started));
    ++state.opened;
    auto& kept = *state.sockets.emplace_back(std::move(ws));
    net::co_spawn(executor, watch(state, kept), net::detached);
  }
}
#pragma GCC diagnostic pop

std::optional<std::vector<tcp::endpoint>> resolve(const options& opts, std::string& error) {
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::error_code ec;
  auto found = resolver.resolve(opts.host, opts.port, ec);
  if (ec || found.empty()) {
    error = "cannot resolve " + opts.host + ":" + opts.port + ": " + ec.message();
    return std::nullopt;
  }
  std::vector<tcp::endpoint> out;
  for (const auto& entry : found) {
    out.push_back(entry.endpoint());
  }
  return out;
}

int run_hold(const options& opts, std::vector<tcp::endpoint> endpoints, uint64_t fd_limit) {
  net::io_context ioc{1};
  hold_state state{opts, std::move(endpoints), {}, 0, 0, 0, 0, false, {}, {}};
  state.sockets.reserve(opts.sessions);
  state.open_ms.reserve(opts.sessions);
  const auto started = clock_type::now();
  for (size_t i = 0; i < std::min(opts.concurrency, opts.sessions); ++i) {
    net::co_spawn(ioc, opener(state), net::detached);
  }
  // Run until every opener is done; the watchers keep the context busy afterwards.
  while (state.opened + state.failed < opts.sessions) {
    ioc.run_one();
  }
  const double open_s = std::chrono::duration<double>(clock_type::now() - started).count();
  state.holding = true;
  json opened{{"event", "open"},
              {"sessions", opts.sessions},
              {"opened", state.opened},
              {"failed", state.failed},
              {"turn", opts.turn},
              {"open_s", std::round(open_s * 1000.0) / 1000.0},
              {"open_ms", summary_of(state.open_ms)},
              {"concurrency", opts.concurrency},
              {"fd_limit", fd_limit}};
  if (!state.first_error.empty()) {
    opened["first_error"] = state.first_error;
  }
  std::cout << opened.dump() << std::endl;

  // Hold: a thread waits for stdin's EOF (or the duration) and then stops the context.
  std::atomic<bool> done{false};
  net::steady_timer stop_timer{ioc};
  auto work = net::make_work_guard(ioc);
  std::thread waiter;
  if (opts.hold_s > 0) {
    stop_timer.expires_after(
      std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opts.hold_s)));
    stop_timer.async_wait([&](beast::error_code) { ioc.stop(); });
  } else {
    waiter = std::thread{[&] {
      char byte;
      while (::read(STDIN_FILENO, &byte, 1) > 0) {
      }
      done = true;
      net::post(ioc, [&] { ioc.stop(); });
    }};
  }
  ioc.run();
  if (waiter.joinable()) {
    waiter.join();
  }
  state.holding = false;
  json closed{{"event", "closed"},
              {"held", state.opened - state.closed_by_server},
              {"closed_by_server", state.closed_by_server}};
  std::cout << closed.dump() << std::endl;
  // The sockets close with the process (no close handshake for thousands of sessions).
  std::cout.flush();
  std::_Exit(0);
}

// ------------------------------------------------------------------------------------------------
// turns

struct turn_result {
  bool completed = false;
  std::string last_type;
  std::string error;
  double first_frame_ms = 0;
  double completed_ms = 0;
};

class turn_client {
public:
  turn_client(const options& opts, const std::vector<tcp::endpoint>& endpoints)
      : opts_(opts),
        endpoints_(endpoints) {}

  bool open() { return ws_ && ws_->is_open(); }

  std::string connect() {
    ws_ = std::make_unique<ws_stream>(ioc_);
    decorate(*ws_, opts_);
    beast::error_code ec;
    beast::get_lowest_layer(*ws_).expires_after(io_timeout);
    beast::get_lowest_layer(*ws_).connect(endpoints_, ec);
    if (ec) {
      return "connect: " + ec.message();
    }
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay{true}, ec);
    websocket::response_type response;
    ws_->handshake(response, opts_.host + ":" + opts_.port, opts_.target, ec);
    if (ec) {
      return "upgrade (HTTP " + std::to_string(response.result_int()) + "): " + ec.message();
    }
    return {};
  }

  turn_result turn() {
    turn_result out;
    beast::error_code ec;
    beast::get_lowest_layer(*ws_).expires_after(io_timeout);
    ws_->text(true);
    const auto started = clock_type::now();
    ws_->write(net::buffer(opts_.frame), ec);
    if (ec) {
      out.error = "write: " + ec.message();
      return out;
    }
    bool first = true;
    while (true) {
      buffer_.clear();
      ws_->read(buffer_, ec);
      if (ec) {
        out.error =
          "read: " + ec.message() + " (close code " + std::to_string(ws_->reason().code) + ")";
        return out;
      }
      if (first) {
        out.first_frame_ms = to_ms(clock_type::now() - started);
        first = false;
      }
      auto text = beast::buffers_to_string(buffer_.data());
      out.last_type = type_of(text);
      if (ends_turn(out.last_type)) {
        out.completed_ms = to_ms(clock_type::now() - started);
        out.completed = out.last_type == "response.completed";
        if (!out.completed) {
          out.error = text.substr(0, 400);
        }
        return out;
      }
    }
  }

  void close() {
    if (open()) {
      beast::error_code ignored;
      beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds{5});
      ws_->close(websocket::close_code::normal, ignored);
    }
  }

private:
  const options& opts_;
  const std::vector<tcp::endpoint>& endpoints_;
  net::io_context ioc_{1};
  std::unique_ptr<ws_stream> ws_;
  beast::flat_buffer buffer_;
};

int run_turns(const options& opts, const std::vector<tcp::endpoint>& endpoints) {
  turn_client client{opts, endpoints};
  json out{{"turns", opts.turns}, {"warmup", opts.warmup}};
  std::string first_error;
  auto note_error = [&](const std::string& error) {
    if (first_error.empty()) {
      first_error = error;
    }
  };
  // Warmup: retry until W turns completed (errors while the nodes find each other are normal).
  const auto give_up = clock_type::now()
                       + std::chrono::duration_cast<clock_type::duration>(
                         std::chrono::duration<double>(opts.warmup_timeout_s));
  size_t warm = 0;
  size_t warmup_errors = 0;
  while (warm < opts.warmup && clock_type::now() < give_up) {
    if (!client.open()) {
      if (auto error = client.connect(); !error.empty()) {
        ++warmup_errors;
        note_error(error);
        std::this_thread::sleep_for(std::chrono::milliseconds{200});
        continue;
      }
    }
    auto result = client.turn();
    if (result.completed) {
      ++warm;
    } else {
      ++warmup_errors;
      note_error(result.error);
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
    }
  }
  out["warmup_errors"] = warmup_errors;
  if (warm < opts.warmup) {
    out["completed"] = 0;
    out["error"] = "warmup did not complete within " + std::to_string(opts.warmup_timeout_s) + " s";
    out["first_error"] = first_error;
    std::cout << out.dump() << std::endl;
    return 1;
  }
  first_error.clear();
  std::vector<double> first_frame;
  std::vector<double> completed;
  size_t errors = 0;
  for (size_t i = 0; i < opts.turns; ++i) {
    if (!client.open()) {
      if (auto error = client.connect(); !error.empty()) {
        ++errors;
        note_error(error);
        continue;
      }
    }
    auto result = client.turn();
    if (result.completed) {
      first_frame.push_back(result.first_frame_ms);
      completed.push_back(result.completed_ms);
    } else {
      ++errors;
      note_error(result.error);
    }
  }
  client.close();
  out["completed"] = completed.size();
  out["errors"] = errors;
  out["first_frame_ms"] = summary_of(first_frame);
  out["completed_ms"] = summary_of(completed);
  if (!first_error.empty()) {
    out["first_error"] = first_error;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string error;
  auto parsed = parse_options(argc, argv, error);
  if (!parsed) {
    std::cerr << "cxp-wsload: " << error << "\n" << usage_text;
    return 2;
  }
  const auto& opts = *parsed;
  const auto fd_limit = raise_fd_limit();
  auto endpoints = resolve(opts, error);
  if (!endpoints) {
    std::cerr << "cxp-wsload: " << error << "\n";
    return 1;
  }
  if (opts.mode == "hold") {
    if (fd_limit < opts.sessions + 64) {
      std::cerr << "cxp-wsload: warning: the descriptor limit " << fd_limit << " is below "
                << opts.sessions << " sessions\n";
    }
    return run_hold(opts, std::move(*endpoints), fd_limit);
  }
  return run_turns(opts, *endpoints);
}
