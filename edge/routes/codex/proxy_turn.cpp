#include "edge/routes/codex/proxy_turn.hpp"

#include <boost/asio/post.hpp>

#include "actors/type_ids.hpp"
#include "common/encoding.hpp"
#include "domain/request_logs/client_agent.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/codex/proxy_turn_state.hpp"
#include "edge/server/actor_bridge.hpp"

namespace cxp::edge {

namespace detail {

namespace {

constexpr size_t max_error_body_bytes = 1u << 20;

std::map<std::string, std::string> header_map(const actors::header_list& headers) {
  return {headers.begin(), headers.end()};
}

} // namespace

proxy_turn::proxy_turn(codex_runtime& runtime, turn_request request)
    : runtime_(runtime),
      request_(std::move(request)),
      home_(request_.ex->home() != nullptr ? request_.ex->home()->get_executor()
                                           : runtime.io->local_or_next().get_executor()),
      keepalive_timer_(home_) {
  const auto now = runtime_.services.clock.now();
  log_.id = new_time_ordered_uuid(now);
  log_.occurred_at = to_iso8601(now);
  log_.pool_id = request_.pool_id;
  log_.api_key_id = request_.api_key_id;
  log_.route = request_.ex->route_name();
  log_.transport = request_.route == actors::route_class::compact ? "http_json" : "http_sse";
  log_.model = request_.model;
  log_.service_tier = request_.service_tier;
  if (!request_.session_key_hash.empty()) {
    log_.session_key_hash = request_.session_key_hash;
  }
  log_.client_ip = request_.ex->client_ip();
  const auto agent = request_.ex->request()[http::field::user_agent];
  log_.client = domain::client_label(domain::parse_client_agent({agent.data(), agent.size()}));
}

void proxy_turn::start() {
  net::post(home_, [self = shared_from_this()] { self->admit(); });
}

void proxy_turn::admit() {
  // Answered on `home_`: at once, or later from the bulkhead's queue.
  runtime_.admission->admit(
    request_.admission, home_, [self = shared_from_this()](caf::expected<admission_ticket> ticket) {
      if (!ticket) {
        return self->fail(to_errc(ticket.error()), context_of(ticket.error()));
      }
      self->ticket_ = std::move(*ticket);
      self->request_lease();
    });
}

void proxy_turn::request_lease() {
  phase_ = phase::leasing;
  actors::lease_request lease{
    request_.pool_id, log_.id, request_.model,      request_.route, request_.session_key_hash,
    request_.seed,    tried_,  request_.api_key_id, request_.caps,  {}};
  auto known = runtime_.pools.find(request_.pool_id);
  if (!known) {
    learn_pool_handle();
  }
  const auto source = known ? *known : actors::lease_source_actor{runtime_.directory};
  // No timer: the pool always answers (its own waits on account actors are bounded) and a
  // dead one bounces the request, so a clock registration per request would buy nothing.
  ask<actors::lease_reply>(
    runtime_.system, source, caf::infinite,
    [self = shared_from_this(), known](caf::expected<actors::lease_reply> reply) {
      net::post(self->home_, [self, known, r = std::move(reply)]() mutable {
        if (!r && known) {
          // The pool is gone (removed, or restarted under a new actor): the directory knows.
          self->runtime_.pools.forget(self->request_.pool_id, *known);
          return self->request_lease();
        }
        self->on_lease(std::move(r));
      });
    },
    std::move(lease));
}

void proxy_turn::learn_pool_handle() {
  ask<actors::lease_source_actor>(
    runtime_.system, runtime_.directory, caf::infinite,
    [&runtime = runtime_,
     pool_id = request_.pool_id](caf::expected<actors::lease_source_actor> pool) {
      if (pool) {
        runtime.pools.put(pool_id, std::move(*pool));
      }
    },
    actors::pool_handle_request{request_.pool_id});
}

void proxy_turn::on_lease(caf::expected<actors::lease_reply> reply) {
  if (!reply) {
    return fail(errc::service_unavailable, "lease request failed: " + context_of(reply.error()));
  }
  auto& decision = reply->grant ? reply->grant->routing : reply->denial.routing;
  decision.attempt = static_cast<int32_t>(log_.attempts.size() + 1);
  routing_.push_back(std::move(decision));
  if (!reply->grant) {
    return on_denial(reply->denial);
  }
  grant_ = std::move(*reply->grant);
  refreshed_once_ = false; // each account gets its own refresh
  reconnected_ = false;
  runtime_.admission->configure(grant_.settings);
  start_attempt();
}

void proxy_turn::on_denial(const actors::lease_denial& denial) {
  if (last_failure_ && (denial.code == errc::no_eligible_account || grant_.pinned)) {
    return relay_failure();
  }
  if (denial.code == errc::usage_limit_reached) {
    return respond_usage_limit(denial);
  }
  if (denial.code == errc::api_key_policy_limit_exceeded) {
    // The denial says which cap and when it frees up: meant for the client.
    respond_limited(lookup_error(denial.code).status, render_error(denial.code, denial.message),
                    denial);
    return finish(429, std::string{to_string(denial.code)},
                  domain::request_log_status(std::nullopt));
  }
  fail(denial.code, denial.message);
}

void proxy_turn::start_attempt() {
  phase_ = phase::awaiting_head;
  attempt_started_ = steady_clock::now();
  attempt_started_at_ = to_iso8601(runtime_.services.clock.now());
  parser_ = actors::sse_parser{};
  pending_.clear();
  upstream_head_ = {};
  prelude_events_ = 0;
  actors::upstream_request upstream;
  upstream.url = runtime_.upstream_base_url + request_.upstream_path;
  upstream.headers = upstream_headers_for(request_.ex->request(), grant_.access_token.expose(),
                                          grant_.chatgpt_account_id,
                                          request_.route == actors::route_class::responses);
  if (!request_.content_type.empty()) {
    for (auto& [name, value] : upstream.headers) {
      value = name == "content-type" ? request_.content_type : value;
    }
  }
  upstream.body = request_.body;
  const auto& gateway = grant_.settings->gateway();
  upstream.timeouts.connect = gateway.upstream_connect_timeout;
  upstream.timeouts.first_byte = gateway.upstream_first_byte_timeout;
  upstream.timeouts.idle = gateway.upstream_receive_timeout;
  upstream.home = &home_.context();
  // A cancelled call may still report; only the current attempt's callbacks count.
  const int attempt = ++attempt_serial_;
  auto self = shared_from_this();
  auto current = [self, attempt] {
    return attempt == self->attempt_serial_;
  };
  actors::upstream_stream_handler handler;
  // The call runs on this thread's io_context (the upstream client keeps a call started on a
  // pool thread there), so head and body arrive on `home_` and are handled in place. The end
  // is posted: a call refused at its start reports it before `call_` is even set.
  handler.on_head = [self, current](actors::upstream_head head) {
    if (current()) {
      self->on_head(std::move(head));
    }
  };
  handler.on_chunk = [self, current](std::string chunk, bool body_complete,
                                     std::function<void()> resume) {
    if (current()) {
      self->body_complete_ = body_complete;
      self->on_chunk(std::move(chunk), std::move(resume));
    }
  };
  handler.on_done = [self, current](std::optional<actors::upstream_failure> failure) {
    net::post(self->home_, [self, current, failure] {
      if (current()) {
        self->on_done(failure);
      }
    });
  };
  call_ = runtime_.upstream->stream(std::move(upstream), std::move(handler));
}

void proxy_turn::on_head(actors::upstream_head head) {
  upstream_head_ = std::move(head);
  observed_quota_ = domain::parse_rate_limit_headers(header_map(upstream_head_.headers),
                                                     runtime_.services.clock.now());
  const auto status = upstream_head_.status;
  const bool event_stream =
    upstream_head_.header("content-type").find("text/event-stream") != std::string_view::npos;
  phase_ = status == 200 && event_stream ? phase::prelude : phase::buffering;
}

void proxy_turn::on_chunk(std::string chunk, std::function<void()> resume) {
  switch (phase_) {
  case phase::prelude:
    return on_prelude_chunk(std::move(chunk), std::move(resume));
  case phase::relaying:
    return relay(std::move(chunk), std::move(resume));
  case phase::buffering:
    if (pending_.size() + chunk.size() <= max_error_body_bytes) {
      pending_ += chunk;
    }
    resume();
    return;
  default:
    return;
  }
}

} // namespace detail

void bind_key(turn_request& request, const domain::authenticated_key& key) {
  request.pool_id = key.key.pool_id;
  request.api_key_id = key.key.id;
  const auto& policy = key.key.policy;
  request.caps = {policy.max_requests_per_minute, policy.max_tokens_per_day,
                  policy.max_tokens_per_week};
}

void run_proxy_turn(codex_runtime& runtime, turn_request request) {
  if (request.admission == domain::admission_class::proxy_stream) {
    request.expects_sse = true;
  }
  std::make_shared<detail::proxy_turn>(runtime, std::move(request))->start();
}

} // namespace cxp::edge
