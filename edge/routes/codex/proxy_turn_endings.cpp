#include <boost/asio/post.hpp>

#include "actors/stream/attempt_ledger.hpp"
#include "actors/type_ids.hpp"
#include "common/encoding.hpp"
#include "common/json_input.hpp"
#include "common/log.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/codex/proxy_turn_state.hpp"
#include "edge/server/actor_bridge.hpp"

namespace cxp::edge::detail {

namespace {

using nlohmann::json;

constexpr auto refresh_timeout = std::chrono::seconds{70};

} // namespace

void proxy_turn::on_done(std::optional<actors::upstream_failure> failure) {
  keepalive_timer_.cancel();
  const auto current = phase_;
  phase_ = phase::finished;
  domain::turn_signal broken;
  broken.kind = domain::signal_kind::transport_failure;
  switch (current) {
  case phase::relaying:
    return end_relay(failure);
  case phase::buffering:
    if (failure) {
      broken.code = std::string{to_string(*failure)};
      return settle(broken);
    }
    return on_buffered_answer();
  case phase::awaiting_head:
  case phase::prelude:
    // A 200 that ended (or broke) before its first visible event carries nothing to relay.
    broken.code = failure ? std::string{to_string(*failure)} : "closed_before_first_event";
    return settle(broken);
  default:
    return;
  }
}

void proxy_turn::end_relay(std::optional<actors::upstream_failure> failure, std::string tail) {
  if (client_gone_) {
    stream_->abort();
    report(attempt_outcome::cancelled);
    return finish(499, "client_closed", domain::request_log_status(attempt_outcome::cancelled));
  }
  remember_tail(tail);
  if (saw_completed_ && !failure) {
    tail += rewriter_.take_rest(); // bytes after the last event (a trailing comment)
    stream_->finish_with(std::move(tail));
    report(attempt_outcome::succeeded);
    return finish(200, std::nullopt, domain::request_log_status(attempt_outcome::succeeded));
  }
  // Committed: never replayed. Unless the upstream ended it with a terminal event of its own,
  // the client is told the answer is cut, so it never takes the partial answer as complete.
  std::string code = stream_error_;
  if (!saw_completed_ && stream_error_.empty()) {
    auto reason = cut_;
    if (failure == actors::upstream_failure::idle_timeout) {
      reason = cut_reason::idle;
    }
    const std::string detail =
      failure && reason != cut_reason::malformed ? std::string{to_string(*failure)} : std::string{};
    code = std::string{to_string(reason)};
    tail += stream_cut_event(reason, detail, !at_event_boundary());
  } else if (code.empty()) {
    code = std::string{to_string(*failure)};
  }
  stream_->finish_with(std::move(tail));
  const bool upstream_fault = failure || cut_ == cut_reason::malformed;
  const auto outcome = upstream_fault   ? attempt_outcome::network_error
                       : saw_completed_ ? attempt_outcome::succeeded
                                        : domain::outcome_of(terminal_);
  report(outcome, code);
  finish(200, code, domain::request_log_status(outcome));
}

void proxy_turn::on_buffered_answer() {
  const auto status = upstream_head_.status;
  if (status == 200 && request_.expects_sse) {
    // A JSON (or any non-SSE) answer to a streaming request: no client could read it as one.
    domain::turn_signal malformed;
    malformed.kind = domain::signal_kind::malformed;
    return settle(malformed);
  }
  json body;
  parse_untrusted(pending_, body);
  const auto signal = domain::read_upstream_answer(static_cast<int32_t>(status), body);
  std::optional<time_point> reset;
  if (domain::outcome_of(signal) == attempt_outcome::usage_limited) {
    const auto now = runtime_.services.clock.now();
    reset = domain::parse_usage_limit_reset(body, now);
    if (!reset) {
      reset = domain::exhausted_until(observed_quota_, now);
    }
    // A per-model limit blocks that model on this account, not the whole account.
    auto evidence = domain::usage_limit_of(reset, upstream_head_.header("x-codex-active-limit"),
                                           observed_quota_, now);
    if (evidence.family_window) {
      observed_quota_.push_back(std::move(*evidence.family_window));
    }
    reset = evidence.account_until;
  }
  if (body.is_object() && body.contains("error") && body["error"].is_object()
      && body["error"].contains("plan_type") && body["error"]["plan_type"].is_string()) {
    plan_type_ = body["error"]["plan_type"].get<std::string>();
  }
  settle(signal, reset);
}

domain::attempt_state proxy_turn::attempt_state() const {
  domain::attempt_state state;
  state.visible = phase_ == phase::relaying;
  state.refreshed = refreshed_once_;
  state.reconnected = reconnected_;
  state.failover_allowed = request_.allow_failover && !grant_.pinned;
  return state;
}

void proxy_turn::settle(const domain::turn_signal& signal,
                        std::optional<time_point> exhausted_until) {
  const auto status = upstream_head_.status;
  switch (domain::judge(signal, attempt_state())) {
  case domain::turn_verdict::refresh_token:
    refreshed_once_ = true;
    return refresh_and_retry(signal);
  case domain::turn_verdict::reconnect:
    reconnected_ = true;
    record_attempt(domain::outcome_of(signal), true, domain::attempt_error_code(signal));
    return start_attempt();
  case domain::turn_verdict::fail_over:
    return attempt_failed(signal, exhausted_until, true);
  case domain::turn_verdict::completed:
    report(attempt_outcome::succeeded);
    respond_buffered(status);
    return finish(static_cast<int32_t>(status), std::nullopt,
                  domain::request_log_status(attempt_outcome::succeeded));
  case domain::turn_verdict::reject: {
    // About the request itself: no other account would answer differently.
    const auto code = domain::attempt_error_code(signal);
    report(attempt_outcome::rejected, code);
    respond_buffered(status);
    return finish(static_cast<int32_t>(status), code,
                  domain::request_log_status(attempt_outcome::rejected));
  }
  default:
    return attempt_failed(signal, exhausted_until, false);
  }
}

void proxy_turn::refresh_and_retry(const domain::turn_signal& signal) {
  record_attempt(domain::outcome_of(signal), true, domain::attempt_error_code(signal));
  ask<actors::lease_grant>(
    runtime_.system, grant_.account, refresh_timeout,
    [self = shared_from_this()](caf::expected<actors::lease_grant> refreshed) {
      net::post(self->home_, [self, r = std::move(refreshed)]() mutable {
        if (!r) {
          // The refresh token was rejected (reauth_required) or the refresh failed: this
          // account is out; its lease was already released.
          const auto outcome = attempt_outcome::unauthorized;
          self->runtime_.metrics.upstream_attempts
            .add({{"outcome", std::string{to_string(outcome)}}})
            .increment();
          self->send_report(outcome, std::nullopt);
          return self->next_or_fail(outcome, "reauth_required");
        }
        r->pool = self->grant_.pool;
        r->pinned = self->grant_.pinned;
        r->probe = self->grant_.probe;
        r->ring_size = self->grant_.ring_size;
        r->settings = self->grant_.settings;
        self->grant_ = std::move(*r);
        self->start_attempt();
      });
    },
    actors::refresh_atom::value, grant_.token_generation);
}

void proxy_turn::attempt_failed(const domain::turn_signal& signal,
                                std::optional<time_point> exhausted_until, bool retry) {
  const auto outcome = domain::outcome_of(signal);
  const auto code = domain::attempt_error_code(signal);
  // A credential failure is never relayed (the client would read it as its own key refused),
  // and a malformed or broken answer has nothing worth relaying.
  const bool relayable =
    outcome != attempt_outcome::unauthorized
    && (signal.kind == domain::signal_kind::answer || signal.kind == domain::signal_kind::event);
  if (relayable && upstream_head_.status != 0) {
    last_failure_ = failed_answer{
      upstream_head_.status, std::string{upstream_head_.header("content-type")}, pending_, code};
  }
  report(outcome, code, exhausted_until, retry);
  if (!retry) {
    return give_up(code);
  }
  next_or_fail(outcome, code);
}

void proxy_turn::next_or_fail(attempt_outcome outcome, const std::string& code) {
  tried_.push_back(grant_.account_id);
  if (!request_.allow_failover || grant_.pinned
      || static_cast<int32_t>(tried_.size()) >= grant_.ring_size) {
    return give_up(code);
  }
  runtime_.metrics.failovers.add({{"reason", std::string{to_string(outcome)}}}).increment();
  request_lease();
}

void proxy_turn::give_up(const std::string& code) {
  if (last_failure_) {
    return relay_failure();
  }
  fail(grant_.pinned ? errc::pinned_continuation_unavailable : errc::upstream_request_failed, code);
}

void proxy_turn::report(attempt_outcome outcome, std::optional<std::string> code,
                        std::optional<time_point> exhausted_until, bool retried) {
  runtime_.metrics.upstream_attempts.add({{"outcome", std::string{to_string(outcome)}}})
    .increment();
  record_attempt(outcome, retried, std::move(code));
  log_.account_id = grant_.account_id;
  send_report(outcome, exhausted_until);
}

void proxy_turn::send_report(attempt_outcome outcome, std::optional<time_point> exhausted_until) {
  last_outcome_ = outcome;
  actors::attempt_ending ending{request_.model,
                                request_.route,
                                request_.session_key_hash,
                                request_.api_key_id,
                                log_.input_tokens.value_or(0) + log_.output_tokens.value_or(0),
                                std::move(observed_quota_),
                                exhausted_until,
                                plan_type_};
  observed_quota_.clear();
  auto report = actors::make_attempt_report(grant_, outcome, std::move(ending));
  caf::anon_send(grant_.pool, std::move(report));
}

void proxy_turn::record_attempt(attempt_outcome outcome, bool retried,
                                std::optional<std::string> code) {
  domain::attempt_facts facts;
  facts.attempt_number = static_cast<int32_t>(log_.attempts.size() + 1);
  facts.account_id = grant_.account_id;
  facts.started_at = attempt_started_at_;
  if (upstream_head_.status != 0) {
    facts.status_code = static_cast<int32_t>(upstream_head_.status);
  }
  facts.error_code = std::move(code);
  facts.latency =
    std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - attempt_started_);
  facts.ttfb_ms = attempt_ttfb_ms_;
  log_.attempts.push_back(domain::make_attempt_row(std::move(facts), outcome, retried));
}

void proxy_turn::respond_buffered(unsigned status) {
  http_response response{static_cast<http::status>(status), request_.ex->request().version()};
  for (const auto& [name, value] : upstream_head_.headers) {
    if (is_relayed_response_header(name)) {
      response.insert(name, value);
    }
  }
  add_quota_headers(response, grant_.quota);
  response.body() = std::move(pending_);
  request_.ex->respond(std::move(response));
}

void proxy_turn::relay_failure() {
  auto failure = std::move(*last_failure_);
  http_response response{static_cast<http::status>(failure.status),
                         request_.ex->request().version()};
  response.set(http::field::content_type,
               failure.content_type.empty() ? "application/json" : failure.content_type);
  for (const auto& [name, value] : upstream_head_.headers) {
    if (name == "retry-after") {
      response.set(http::field::retry_after, value);
    }
  }
  add_quota_headers(response, grant_.quota);
  response.body() = std::move(failure.body);
  request_.ex->respond(std::move(response));
  finish(static_cast<int32_t>(failure.status), failure.code,
         domain::request_log_status(last_outcome_));
}

void proxy_turn::respond_usage_limit(const actors::lease_denial& denial) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                     runtime_.services.clock.now().time_since_epoch())
                     .count();
  auto body = error_envelope("The usage limit has been reached", "usage_limit_reached",
                             "usage_limit_reached");
  auto& error = body["error"];
  error["plan_type"] = denial.plan_type.empty() ? "plus" : denial.plan_type;
  error["eligible_promo"] = nullptr;
  if (denial.resets_at) {
    error["resets_at"] = *denial.resets_at;
    error["resets_in_seconds"] = std::max<int64_t>(0, *denial.resets_at - now);
  }
  respond_limited(http::status::too_many_requests, body, denial);
  finish(429, "usage_limit_reached", domain::request_log_status(std::nullopt));
}

void proxy_turn::respond_limited(http::status status, const json& body,
                                 const actors::lease_denial& denial) {
  http_response response{status, request_.ex->request().version()};
  response.set(http::field::content_type, "application/json");
  add_quota_headers(response, denial.quota);
  if (request_.pooled_quota) {
    // The family the limit belongs to, whose headers the CLI reads for the 429: the main one.
    response.set("x-codex-active-limit", std::string{domain::main_limit});
  }
  response.body() = body.dump();
  request_.ex->respond(std::move(response));
}

domain::pooled_quota proxy_turn::pooled_quota_now(const actors::quota_evidence& evidence) const {
  // The attempt's own evidence (`observed_quota_`) belongs to the account of `grant_`, the
  // latest lease: also after a denial, whose snapshot may predate that attempt's report.
  return actors::pooled_quota_of(evidence, runtime_.services.clock.now(), grant_.account_id,
                                 observed_quota_);
}

void proxy_turn::add_quota_headers(http::fields& fields,
                                   const actors::quota_evidence& evidence) const {
  if (request_.pooled_quota) {
    set_quota_headers(fields, pooled_quota_now(evidence));
  }
}

void proxy_turn::set_quota_headers(http::fields& fields, const domain::pooled_quota& quota) const {
  for (auto& [name, value] : domain::quota_headers(quota, runtime_.services.clock.now())) {
    fields.set(name, value);
  }
}

void proxy_turn::fail(errc code, const std::string& context) {
  if (code != errc::usage_limit_reached && code != errc::no_eligible_account
      && code != errc::server_is_overloaded) {
    log::warn("proxy", "request failed",
              {{"request_id", log_.id}, {"code", to_string(code)}, {"detail", context}});
  }
  request_.ex->respond_error(code);
  finish(static_cast<int32_t>(lookup_error(code).status), std::string{to_string(code)},
         domain::request_log_status(last_outcome_));
}

void proxy_turn::finish(int32_t status, std::optional<std::string> error_code,
                        std::string_view log_status) {
  phase_ = phase::finished;
  log_.status_code = status;
  log_.error_code = std::move(error_code);
  log_.outcome = std::string{log_status};
  log_.routing = domain::routing_json(domain::merge_routing(routing_, log_.attempts));
  const auto took = steady_clock::now() - request_.ex->started();
  log_.latency_ms = millis(took);
  runtime_.metrics.requests.add({{"route", log_.route}, {"status", std::to_string(status)}})
    .increment();
  runtime_.metrics.request_duration.add({{"route", log_.route}})
    .observe(std::chrono::duration<double>(took).count());
  caf::anon_send(runtime_.request_log, std::move(log_));
}

} // namespace cxp::edge::detail
