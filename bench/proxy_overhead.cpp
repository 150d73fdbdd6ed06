// cxp-loadgen: closed-loop HTTP/1.1 load generator behind bench/run-proxy-overhead. Every
// connection keeps alive and POSTs the same request back to back; per response it records the
// time to the first body byte (for SSE: the first event) and to the end of the body, and prints
// one JSON object with throughput and percentiles.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
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
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "bench/sample_stats.hpp"

namespace {

using cxp::bench::percentile;
using cxp::bench::rounded;

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::ordered_json; // keeps the documented key order
using clock_type = std::chrono::steady_clock;

constexpr const char* usage_text =
  R"(usage: cxp-loadgen --url http://HOST:PORT/PATH [options]
  --header 'name: value'   extra request header (repeatable; overrides defaults)
  --body-file F            request body (POST); empty when absent
  --connections C          concurrent keep-alive connections (default 8)
  --duration-s D           measured seconds (default 10)
  --warmup-s W             unmeasured seconds before that (default 2)
  --threads T              io threads (default 1)
  --rate R                 total requests/s, paced per connection (default 0: closed loop)
prints one JSON object on stdout.
)";

// A slow or hung server must not keep the run alive past its end.
constexpr auto io_timeout = std::chrono::seconds{30};
constexpr auto stop_grace = std::chrono::seconds{5};
constexpr auto error_backoff = std::chrono::milliseconds{10};
constexpr size_t body_chunk_bytes = 64 * 1024;
constexpr size_t sample_bytes = 512;

template <class T>
struct result {
  std::optional<T> value;
  std::string error;
};

template <class T>
result<T> failure(std::string why) {
  return {std::nullopt, std::move(why)};
}

struct options {
  std::string host;
  std::string port;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t connections = 8;
  double duration_s = 10;
  double warmup_s = 2;
  size_t threads = 1;
  double rate = 0;
};

struct url_parts {
  std::string host;
  std::string port;
  std::string target;
};

result<url_parts> parse_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) {
    return failure<url_parts>("--url must start with http:// (TLS is not supported)");
  }
  url.remove_prefix(scheme.size());
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  url_parts out;
  out.target = slash == std::string_view::npos ? "/" : std::string{url.substr(slash)};
  auto colon = authority.rfind(':');
  out.host = std::string{authority.substr(0, colon)};
  out.port = colon == std::string_view::npos ? "80" : std::string{authority.substr(colon + 1)};
  if (out.host.empty() || out.port.empty()) {
    return failure<url_parts>("--url has no host or port");
  }
  return {out, {}};
}

result<double> parse_number(const std::string& flag, const std::string& text, double min) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(value) || value < min) {
    return failure<double>(flag + " must be a number >= " + std::to_string(min));
  }
  return {value, {}};
}

result<options> parse_options(int argc, char** argv) {
  options out;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      return failure<options>(flag + " needs a value");
    }
    std::string value = argv[++i];
    auto number = [&](double min) {
      return parse_number(flag, value, min);
    };
    if (flag == "--url") {
      auto url = parse_url(value);
      if (!url.value) {
        return failure<options>(url.error);
      }
      out.host = url.value->host;
      out.port = url.value->port;
      out.target = url.value->target;
      have_url = true;
    } else if (flag == "--header") {
      auto colon = value.find(':');
      if (colon == std::string::npos || colon == 0) {
        return failure<options>("--header must be 'name: value'");
      }
      auto start = value.find_first_not_of(" \t", colon + 1);
      out.headers.emplace_back(value.substr(0, colon),
                               start == std::string::npos ? "" : value.substr(start));
    } else if (flag == "--body-file") {
      std::ifstream in{value, std::ios::binary};
      if (!in) {
        return failure<options>("cannot read --body-file " + value);
      }
      std::ostringstream content;
      content << in.rdbuf();
      out.body = content.str();
    } else if (flag == "--connections" || flag == "--threads") {
      auto parsed = number(1);
      if (!parsed.value) {
        return failure<options>(parsed.error);
      }
      (flag == "--connections" ? out.connections : out.threads) =
        static_cast<size_t>(*parsed.value);
    } else if (flag == "--duration-s" || flag == "--warmup-s" || flag == "--rate") {
      auto parsed = number(flag == "--duration-s" ? 0.1 : 0);
      if (!parsed.value) {
        return failure<options>(parsed.error);
      }
      (flag == "--duration-s" ? out.duration_s : (flag == "--warmup-s" ? out.warmup_s : out.rate)) =
        *parsed.value;
    } else {
      return failure<options>("unknown option " + flag);
    }
  }
  if (!have_url) {
    return failure<options>("--url is required");
  }
  out.threads = std::min(out.threads, out.connections);
  return {out, {}};
}

/// The request is identical every time, so it is serialised once and written as raw bytes.
std::string serialise_request(const options& opts) {
  http::request<http::string_body> request{http::verb::post, opts.target, 11};
  request.set(http::field::host, opts.host + ":" + opts.port);
  request.set(http::field::user_agent, "cxp-loadgen");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::accept, "text/event-stream");
  for (const auto& [name, value] : opts.headers) {
    request.set(name, value);
  }
  request.body() = opts.body;
  request.keep_alive(true);
  request.prepare_payload();
  std::ostringstream out;
  out << request;
  return out.str();
}

struct plan {
  std::string request;
  std::vector<tcp::endpoint> endpoints;
  clock_type::time_point measure_from;
  clock_type::time_point stop_at;
  clock_type::duration pace{0}; ///< per connection; zero = closed loop
};

struct connection_stats {
  std::vector<double> ttfb_ms;
  std::vector<double> total_ms;
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t non_2xx = 0;
  std::map<int, uint64_t> statuses;
  std::string first_error;
  std::optional<std::pair<int, std::string>> first_non_2xx;
};

double to_ms(clock_type::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

bool in_window(const plan& p, clock_type::time_point t) {
  return t >= p.measure_from && t < p.stop_at;
}

// GCC 12 mistakes asio's recycling operator new/delete of the coroutine frame for a mismatch
// (a false positive that comes and goes with inlining).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
net::awaitable<void> run_connection(const plan& p, connection_stats& stats,
                                    clock_type::duration offset) {
  auto executor = co_await net::this_coro::executor;
  beast::tcp_stream stream{executor};
  net::steady_timer timer{executor};
  beast::flat_buffer buffer;
  std::vector<char> chunk(body_chunk_bytes);
  bool connected = false;
  beast::error_code ec;
  auto next_send = clock_type::now() + offset;
  auto deadline = [&p] {
    return std::min(clock_type::now() + io_timeout, p.stop_at + stop_grace);
  };
  auto fail = [&](std::string_view what) {
    if (in_window(p, clock_type::now())) {
      ++stats.errors;
      if (stats.first_error.empty()) {
        stats.first_error = std::string{what} + ": " + ec.message();
      }
    }
    stream.close();
    connected = false;
  };

  while (clock_type::now() < p.stop_at) {
    if (p.pace.count() > 0) {
      timer.expires_at(next_send);
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      // Never bank missed sends: a stalled connection must not burst afterwards.
      next_send = std::max(next_send + p.pace, clock_type::now());
    }
    if (!connected) {
      buffer.clear();
      stream.expires_at(deadline());
      co_await stream.async_connect(p.endpoints, net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        fail("connect");
        timer.expires_after(error_backoff);
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        continue;
      }
      stream.socket().set_option(tcp::no_delay{true}, ec);
      connected = true;
    }

    auto started = clock_type::now();
    stream.expires_at(deadline());
    co_await net::async_write(stream, net::buffer(p.request),
                              net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      fail("write");
      continue;
    }
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    co_await http::async_read_header(stream, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      fail("read header");
      continue;
    }
    const int status = parser.get().result_int();
    const bool ok = status >= 200 && status < 300;
    std::optional<clock_type::time_point> first_byte;
    std::string sample;
    // read_some, not read: a body piece must be timed when it arrives, not when the chunk fills.
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      co_await http::async_read_some(stream, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
      if (ec == http::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        break;
      }
      const size_t got = chunk.size() - parser.get().body().size;
      if (got > 0 && !first_byte) {
        first_byte = clock_type::now();
      }
      if (!ok && sample.size() < sample_bytes) {
        sample.append(chunk.data(), std::min(got, sample_bytes - sample.size()));
      }
    }
    if (ec) {
      fail("read body");
      continue;
    }
    const auto finished = clock_type::now();
    if (in_window(p, finished)) {
      ++stats.statuses[status];
      if (ok) {
        ++stats.requests;
        // An empty body has no first byte; its end is the best stand-in.
        stats.ttfb_ms.push_back(to_ms(first_byte.value_or(finished) - started));
        stats.total_ms.push_back(to_ms(finished - started));
      } else {
        ++stats.non_2xx;
        if (!stats.first_non_2xx) {
          stats.first_non_2xx.emplace(status, std::move(sample));
        }
      }
    }
    if (!parser.keep_alive()) {
      stream.close();
      connected = false;
    }
  }
  if (connected) {
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  }
}
#pragma GCC diagnostic pop

result<std::vector<tcp::endpoint>> resolve(const options& opts) {
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::error_code ec;
  auto found = resolver.resolve(opts.host, opts.port, ec);
  if (ec || found.empty()) {
    return failure<std::vector<tcp::endpoint>>("cannot resolve " + opts.host + ":" + opts.port
                                               + ": " + ec.message());
  }
  std::vector<tcp::endpoint> out;
  for (const auto& entry : found) {
    out.push_back(entry.endpoint());
  }
  return {out, {}};
}

json summarise(const options& opts, std::vector<connection_stats>& all) {
  connection_stats merged;
  for (auto& stats : all) {
    merged.requests += stats.requests;
    merged.errors += stats.errors;
    merged.non_2xx += stats.non_2xx;
    merged.ttfb_ms.insert(merged.ttfb_ms.end(), stats.ttfb_ms.begin(), stats.ttfb_ms.end());
    merged.total_ms.insert(merged.total_ms.end(), stats.total_ms.begin(), stats.total_ms.end());
    for (const auto& [status, count] : stats.statuses) {
      merged.statuses[status] += count;
    }
    if (merged.first_error.empty()) {
      merged.first_error = stats.first_error;
    }
    if (!merged.first_non_2xx && stats.first_non_2xx) {
      merged.first_non_2xx = stats.first_non_2xx;
    }
  }
  std::sort(merged.ttfb_ms.begin(), merged.ttfb_ms.end());
  std::sort(merged.total_ms.begin(), merged.total_ms.end());
  json statuses = json::object();
  for (const auto& [status, count] : merged.statuses) {
    statuses[std::to_string(status)] = count;
  }
  json out{
    {"requests", merged.requests},
    {"errors", merged.errors},
    {"non_2xx", merged.non_2xx},
    {"throughput_rps", rounded(static_cast<double>(merged.requests) / opts.duration_s)},
    {"ttfb_ms",
     {{"p50", percentile(merged.ttfb_ms, 0.50)},
      {"p90", percentile(merged.ttfb_ms, 0.90)},
      {"p99", percentile(merged.ttfb_ms, 0.99)},
      {"max", merged.ttfb_ms.empty() ? 0.0 : rounded(merged.ttfb_ms.back())}}},
    {"total_ms",
     {{"p50", percentile(merged.total_ms, 0.50)}, {"p99", percentile(merged.total_ms, 0.99)}}},
    {"statuses", statuses},
    {"connections", opts.connections},
    {"duration_s", opts.duration_s},
    {"rate", opts.rate}};
  if (!merged.first_error.empty()) {
    out["first_error"] = merged.first_error;
  }
  if (merged.first_non_2xx) {
    out["first_non_2xx"] = {{"status", merged.first_non_2xx->first},
                            {"body", merged.first_non_2xx->second}};
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed.value) {
    std::cerr << "cxp-loadgen: " << parsed.error << "\n" << usage_text;
    return 2;
  }
  const auto& opts = *parsed.value;
  auto endpoints = resolve(opts);
  if (!endpoints.value) {
    std::cerr << "cxp-loadgen: " << endpoints.error << "\n";
    return 1;
  }

  plan p;
  p.request = serialise_request(opts);
  p.endpoints = std::move(*endpoints.value);
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  };
  p.measure_from = clock_type::now() + seconds(opts.warmup_s);
  p.stop_at = p.measure_from + seconds(opts.duration_s);
  if (opts.rate > 0) {
    p.pace = seconds(static_cast<double>(opts.connections) / opts.rate);
  }

  std::vector<connection_stats> stats(opts.connections);
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (size_t i = 0; i < opts.threads; ++i) {
    contexts.push_back(std::make_unique<net::io_context>(1));
  }
  for (size_t i = 0; i < opts.connections; ++i) {
    // Paced connections start spread over one interval so their sends do not arrive in bursts.
    auto offset = p.pace * static_cast<long>(i) / static_cast<long>(opts.connections);
    net::co_spawn(*contexts[i % contexts.size()], run_connection(p, stats[i], offset),
                  net::detached);
  }
  std::vector<std::thread> threads;
  for (auto& ioc : contexts) {
    threads.emplace_back([&ioc] { ioc->run(); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::cout << summarise(opts, stats).dump() << std::endl;
  return 0;
}
