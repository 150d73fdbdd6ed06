#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/pool/routing_messages.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/runtime/gateway_metrics.hpp"
#include "actors/runtime/runtime_directory.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "common/io_pool.hpp"
#include "domain/admin_context.hpp"
#include "domain/keys/api_key_service.hpp"
#include "edge/routes/codex/pool_handles.hpp"
#include "edge/server/admission.hpp"
#include "edge/server/exchange.hpp"

namespace cxp::edge {

/// Recently authenticated Pool API keys, so the hot path skips the database. A key changed
/// through the admin API on any node is forgotten at once (`forget`, on its notice); `ttl`
/// bounds how long a change written straight to the database goes unseen. Keyed by
/// the SHA-256 of the raw key; the raw key is never kept. Shared by the Asio and CAF threads
/// that run handlers, hence the mutex (a lookup is a map find; nothing blocks under it).
class api_key_cache {
public:
  explicit api_key_cache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  std::optional<domain::authenticated_key> find(const std::string& raw_key_digest);
  void put(const std::string& raw_key_digest, const domain::authenticated_key& key);
  /// Drops every entry of the key with id `api_key_id` (a rotated key has two raw keys).
  void forget(const std::string& api_key_id);

private:
  struct entry {
    domain::authenticated_key key;
    std::chrono::steady_clock::time_point expires;
  };
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// What the Codex routes share; every member outlives the server.
struct codex_runtime {
  caf::actor_system& system;
  actors::db_pool_actor db_pool;
  actors::runtime_directory_actor directory; ///< actors::spawn_runtime_directory
  actors::request_log_actor request_log;     ///< actors::spawn_request_log_writer
  std::shared_ptr<actors::upstream_client> upstream;
  domain::service_context& services;
  std::string upstream_base_url; ///< e.g. https://chatgpt.com/backend-api
  actors::gateway_metrics& metrics;
  /// Runs turn state machines and keep-alive timers: a turn stays on the io_context of the
  /// thread that accepted its request, which is also where its upstream call runs.
  std::shared_ptr<io_pool> io;
  std::shared_ptr<admission_control> admission; ///< the node's route-class bulkheads
  api_key_cache keys{std::chrono::seconds{2}};
  pool_handles pools{}; ///< pool actors turns lease from directly
};

/// One authenticated, policy-checked request to proxy.
struct turn_request {
  exchange_ptr ex;
  std::string upstream_path; ///< appended to the upstream base URL, e.g. "/codex/responses"
  actors::route_class route = actors::route_class::responses;
  std::string pool_id;
  std::string api_key_id;
  domain::key_caps caps; ///< the key's request and token caps
  std::string body;      ///< JSON text as forwarded
  std::string model;
  std::optional<std::string> service_tier; ///< as the client asked; the log prices by it
  std::string session_key_hash;            ///< empty when the client sent no session key
  std::string seed;                        ///< rendezvous seed
  bool allow_failover = true;              ///< false for compact: never retried
  std::string content_type;                ///< of `body` when not JSON (multipart uploads)
  /// The upstream body asks for a stream: a 200 that is not an SSE stream is malformed. Set for
  /// every request admitted as `proxy_stream` (a native body with `"stream": true`).
  bool expects_sse = false;
  /// The bulkhead it is admitted through before anything else happens.
  domain::admission_class admission = domain::admission_class::proxy_http;
  /// Tell the client the pool's capacity (the Codex routes): pooled `x-codex-*` quota headers
  /// on every answer, and on a stream the pooled `codex.rate_limits` events in place of the
  /// upstream's (README "Pooled quota"). Off for /v1, whose clients read neither.
  bool pooled_quota = false;
};

/// Proxies one request: admits it through its route class's bulkhead (else 503
/// `server_is_overloaded`, logged as rejected), leases an account from the pool, forwards it, and
/// on a usage limit, a 5xx, a network error, a retryable first event or a malformed answer (a
/// non-SSE 200 where a stream was expected, an event that is not a JSON object) — before any
/// byte reached the client — reports the failure and tries the next account (bounded by the ring
/// size; a pinned session never moves). An auth error (a 401, or an auth code such as
/// `token_expired` in any status) gets one single-flight token refresh and a retry on the same
/// account; one that outlives it moves on too, and is never relayed (the client would read it as
/// its own key being refused). Another 4xx is relayed as the request's own fault. The verdicts
/// are `domain::judge`'s, shared with the websocket turn. When no account is left, the last
/// upstream 429/5xx or failed first event is relayed, else our 502 `upstream_request_failed` (or
/// the pool's denial, e.g. 503 `no_eligible_account`). Once the first event is relayed the stream
/// is committed: bytes pass through unchanged as they arrive (with `: keepalive` comments at event
/// boundaries while upstream is quiet) and nothing is ever replayed; a stream the upstream cuts,
/// lets go idle or garbles before its terminal event ends with a synthetic `response.failed`
/// (`stream_cut_event`) and then the chunked end. Quota headers, `codex.rate_limits` events and
/// usage-limit bodies feed the account's quota; the final usage event feeds the request log.
/// With `pooled_quota`, the client sees the pool's quota instead of the serving account's.
void run_proxy_turn(codex_runtime& runtime, turn_request request);

/// Sets the key's part of `request`: its pool, id and caps.
void bind_key(turn_request& request, const domain::authenticated_key& key);

} // namespace cxp::edge
