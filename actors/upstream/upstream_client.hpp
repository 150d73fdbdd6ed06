#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "common/io_pool.hpp"

namespace cxp::actors {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct upstream_timeouts {
  std::chrono::milliseconds connect{10'000};     ///< resolve + TCP connect + TLS handshake
  std::chrono::milliseconds first_byte{120'000}; ///< request written → response headers read
  std::chrono::milliseconds idle{300'000};       ///< between two body reads
};

struct upstream_client_options {
  /// Asio threads shared with the caller (the HTTP server's), so a proxied request's upstream
  /// socket lives on the same thread as its client socket. Null: the client runs `io_threads`
  /// of its own.
  std::shared_ptr<io_pool> io;
  size_t io_threads = 2;
  size_t max_idle_per_host = 64;                ///< kept-alive connections parked per origin
  std::chrono::seconds idle_connection_ttl{60}; ///< a parked connection older than this is closed
  uint64_t max_unary_body_bytes = 64u << 20;    ///< `fetch` fails beyond this
  bool verify_tls = true;                       ///< only tests may turn it off
  std::string ca_file;                          ///< extra CA bundle; empty = system defaults
};

struct upstream_request {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string url; ///< absolute http:// or https:// URL, with path and query
  header_list headers;
  std::string body;
  upstream_timeouts timeouts{};
  /// `fetch` only: a cap on this call's body below the client's `max_unary_body_bytes`, which
  /// bounds it still. Beyond it the call fails with `body_too_large`.
  std::optional<uint64_t> max_body_bytes;
  /// Runs the call, and so its callbacks, on this io_context (one thread): the caller's own, so
  /// it can take them in place. Null: the calling pool thread's, else where a connection waits.
  boost::asio::io_context* home = nullptr;
};

/// Status and headers of an upstream answer; header names are lower-case.
struct upstream_head {
  unsigned status = 0;
  header_list headers;

  /// The first value of `name` (lower-case), or empty.
  std::string_view header(std::string_view name) const;
};

enum class upstream_failure {
  bad_url,            ///< not an http(s) URL
  connect_failed,     ///< DNS, TCP or TLS failure, or the connect timeout
  closed_before_head, ///< the connection ended before a complete response head
  first_byte_timeout, ///< no response head within `first_byte`
  idle_timeout,       ///< no body bytes within `idle`
  closed_mid_body,    ///< the connection ended before the body was complete
  body_too_large,     ///< a unary body over `max_unary_body_bytes`
  protocol_error,     ///< unparseable HTTP
  cancelled,          ///< `upstream_call::cancel` was called
};

/// A stable snake_case name for logs, metrics labels and error codes.
std::string_view to_string(upstream_failure failure);

/// The callbacks of one streamed call. They run on the client's Asio threads, never two at a
/// time for one call. `on_head` comes first (unless the call fails earlier), then `on_chunk`
/// per body read, then exactly one `on_done`.
struct upstream_stream_handler {
  std::function<void(upstream_head)> on_head;
  /// A piece of the (de-chunked) body as it arrived; `body_complete` when the body ended with
  /// it (`on_done` follows once `resume` is called), so the caller can end its own answer in the
  /// same write. The next read starts only when `resume` is called (from any thread), which
  /// gives the caller backpressure.
  std::function<void(std::string chunk, bool body_complete, std::function<void()> resume)> on_chunk;
  /// nullopt when the body ended normally.
  std::function<void(std::optional<upstream_failure>)> on_done;
};

/// Handle of a call in progress. Cancelling a finished call does nothing.
class upstream_call {
public:
  virtual ~upstream_call() = default;
  virtual void cancel() = 0;
};

struct upstream_reply {
  upstream_head head;
  std::string body;
};

/// An HTTP/1.1 client for the Codex backend and the OAuth endpoint (Beast, TLS verification on
/// with SNI and host-name checks). Keeps a pool of kept-alive connections per origin; a call on
/// a parked connection that fails before any response byte is retried once on a new connection,
/// because the server may have closed it meanwhile. A call started on one of the io pool's
/// threads runs on that thread's io_context, with connections parked per io_context.
/// Thread-safe: any thread may start calls.
class upstream_client {
public:
  explicit upstream_client(upstream_client_options options = {});
  ~upstream_client();
  upstream_client(const upstream_client&) = delete;
  upstream_client& operator=(const upstream_client&) = delete;

  /// Streams the answer of `request` into `handler`.
  std::shared_ptr<upstream_call> stream(upstream_request request, upstream_stream_handler handler);

  /// Reads the whole answer (any status) and calls `done` once, on a client thread.
  std::shared_ptr<upstream_call>
  fetch(upstream_request request,
        std::function<void(std::optional<upstream_failure>, upstream_reply)> done);

  /// Connections currently parked for reuse (all origins).
  size_t idle_connections() const;

  /// Calls in flight end with `cancelled` and no new call starts; the client's own threads (not
  /// a shared pool's) are joined. Also done by the destructor.
  void stop();

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

/// The whole answer of one `fetch`, or why there was none.
struct call_result {
  std::optional<upstream_failure> failure;
  upstream_reply reply;

  bool ok() const { return !failure && reply.head.status == 200; }
};

/// Runs `request` with `fetch` and blocks the calling thread until its whole answer is in. A
/// call still running at `deadline` is cancelled: its failure is `cancelled`. For worker
/// threads only: on one of the client's own threads it would wait for itself.
call_result call_and_wait(upstream_client& client, upstream_request request,
                          std::optional<std::chrono::steady_clock::time_point> deadline = {});

} // namespace cxp::actors
