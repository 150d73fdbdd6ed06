#include <caf/typed_event_based_actor.hpp>

#include "actors/stream/attempt_ledger.hpp"
#include "actors/stream/stream_state.hpp"
#include "actors/type_ids.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::actors::detail {

int64_t millis(steady_clock::duration took) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
}

void record_attempt(active_turn& t, domain::attempt_outcome outcome, bool retried,
                    std::optional<std::string> code, std::optional<int32_t> status) {
  domain::attempt_facts facts;
  facts.attempt_number = static_cast<int32_t>(t.log.attempts.size() + 1);
  facts.account_id = t.grant ? t.grant->account_id : std::string{};
  facts.started_at = t.attempt_started_at;
  facts.status_code = status;
  if (outcome != domain::attempt_outcome::succeeded && code) {
    t.last_error_code = *code;
  }
  facts.error_code = std::move(code);
  facts.latency =
    std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t.attempt_started);
  t.log.attempts.push_back(domain::make_attempt_row(std::move(facts), outcome, retried));
}

/// Tells the granting pool how the attempt ended (this also ends the account's lease).
void report(stream_self* self, domain::attempt_outcome outcome,
            std::optional<time_point> exhausted_until) {
  auto& t = *self->state.turn;
  if (!t.grant || t.reported) {
    return;
  }
  t.reported = true;
  t.last_outcome = outcome;
  self->state.deps->metrics.upstream_attempts
    .add({{"outcome", std::string{domain::to_string(outcome)}}})
    .increment();
  attempt_ending ending{t.request.model,
                        route_class::responses,
                        t.request.session_key,
                        t.request.api_key_id,
                        t.log.input_tokens.value_or(0) + t.log.output_tokens.value_or(0),
                        t.quota, // kept: the pooled view shown after this attempt counts it
                        exhausted_until,
                        t.plan_type};
  auto out = make_attempt_report(*t.grant, outcome, std::move(ending));
  self->send(t.grant->pool, std::move(out));
}

void relay(stream_self* self, std::string text, std::function<void()> resume) {
  auto& st = self->state;
  auto& t = *st.turn;
  if (!t.log.ttfb_ms) {
    t.log.ttfb_ms = millis(steady_clock::now() - t.started);
  }
  if (!owned(st, t.request)) {
    // The fence: a turn whose connection went away relays to nobody, never to a successor.
    if (resume) {
      resume();
    }
    return;
  }
  const auto seq = ++st.next_seq;
  self->send(st.connection, stream_frame{t.request.turn_id, seq, std::move(text)});
  if (!resume) {
    return;
  }
  if (seq - st.acked >= stream_ack_window) {
    st.paused_resume = std::move(resume);
    return;
  }
  resume();
}

void flush_prelude(stream_self* self) {
  auto& t = *self->state.turn;
  auto prelude = std::move(t.prelude);
  t.prelude.clear();
  const quota_evidence none;
  const auto& evidence = t.grant ? t.grant->quota : none;
  if (prelude.empty()) {
    send_rate_limits(self, evidence);
  }
  for (auto& frame : prelude) {
    relay(self, std::move(frame), nullptr);
    send_rate_limits(self, evidence);
  }
}

std::string with_pooled_headers(stream_self* self, std::string frame,
                                const quota_evidence& evidence) {
  auto parsed = nlohmann::json::parse(frame, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("headers") || !parsed["headers"].is_object()) {
    return frame;
  }
  auto& t = *self->state.turn;
  const auto now = self->state.deps->clock.now();
  auto& headers = parsed["headers"];
  // The frame's quota headers describe the one account that answered: every rate-limit header
  // goes, the pool's take their place.
  for (auto it = headers.begin(); it != headers.end();) {
    const auto name = ascii_lowercase(it.key());
    const bool quota = name.rfind("x-codex-", 0) == 0
                       || (name.rfind("x-", 0) == 0
                           && (name.find("-primary-") != std::string::npos
                               || name.find("-secondary-") != std::string::npos
                               || name.find("-limit-name") != std::string::npos));
    it = quota ? headers.erase(it) : std::next(it);
  }
  const auto quota =
    pooled_quota_of(evidence, now, t.grant ? t.grant->account_id : std::string{}, t.quota);
  for (const auto& [name, value] : domain::quota_headers(quota, now)) {
    headers[name] = value;
  }
  headers["x-codex-active-limit"] = std::string{domain::main_limit};
  return parsed.dump();
}

void send_rate_limits(stream_self* self, const quota_evidence& evidence) {
  auto& t = *self->state.turn;
  if (t.rate_limits_sent) {
    return;
  }
  t.rate_limits_sent = true;
  const auto quota = pooled_quota_of(evidence, self->state.deps->clock.now(),
                                     t.grant ? t.grant->account_id : std::string{}, t.quota);
  for (const auto& event : domain::rate_limits_events(quota)) {
    relay(self, event.dump(), nullptr);
  }
}

/// Takes `response_id` as the running turn's and registers it as an alias of this stream: a
/// client that continues from it (`previous_response_id`) on another node is forwarded here.
/// Announced as soon as the id is known (`response.created`), long before the client can see
/// the response complete, so the alias's session lease is stored before the client could
/// reconnect elsewhere with it. A failed-over attempt's new response id is announced too.
void take_response_id(stream_self* self, const std::string& response_id) {
  auto& st = self->state;
  auto& t = *st.turn;
  if (response_id.empty() || response_id == t.response_id) {
    return;
  }
  t.response_id = response_id;
  if (st.registry) {
    self->send(st.registry,
               stream_alias{persistence::sha256_hex(t.request.alias_salt
                                                    + ":previous_response_id:" + response_id),
                            self});
  }
}

/// Ends the running turn: the pool report (when still due), the request-log row and the done
/// message; then the next queued turn.
void end_turn(stream_self* self, std::optional<domain::attempt_outcome> outcome, int32_t status,
              errc gateway_error, std::string message) {
  auto& st = self->state;
  auto& t = *st.turn;
  const bool gateway_failed = gateway_error != errc{};
  if (t.grant && !t.reported && outcome) {
    record_attempt(t, *outcome, false,
                   *outcome == domain::attempt_outcome::succeeded
                     ? std::nullopt
                     : std::optional<std::string>{t.last_error_code.empty() ? "upstream_error"
                                                                            : t.last_error_code},
                   status);
    report(self, *outcome);
  }
  const bool ok = t.last_outcome == domain::attempt_outcome::succeeded && !gateway_failed;
  t.log.status_code = status;
  t.log.outcome = std::string{domain::request_log_status(t.last_outcome)};
  if (t.cancelled) {
    t.log.outcome = std::string{domain::request_log_status(domain::attempt_outcome::cancelled)};
    t.log.error_code = "client_closed";
  } else if (gateway_failed) {
    t.log.error_code = std::string{to_string(gateway_error)};
  } else if (!ok) {
    t.log.error_code = t.last_error_code.empty() ? "upstream_error" : t.last_error_code;
  }
  if (t.grant) {
    t.log.account_id = t.grant->account_id;
  }
  t.log.routing = domain::routing_json(domain::merge_routing(t.routing, t.log.attempts));
  const auto took = steady_clock::now() - t.started;
  t.log.latency_ms = millis(took);
  auto& metrics = st.deps->metrics;
  metrics.requests.add({{"route", t.log.route}, {"status", std::to_string(status)}}).increment();
  metrics.request_duration.add({{"route", t.log.route}})
    .observe(std::chrono::duration<double>(took).count());
  stream_turn_done done;
  done.turn_id = t.request.turn_id;
  done.ok = ok;
  if (gateway_failed) {
    done.error = make_error(gateway_error);
  }
  done.message = std::move(message);
  done.account_id = t.grant ? t.grant->account_id : std::string{};
  self->send(st.deps->request_log, std::move(t.log));
  if (owned(st, t.request)) {
    self->send(st.connection, std::move(done));
  }
  st.turn.reset();
  start_next(self);
}

/// Why cancel rather than wait for the abandoned answer to end upstream (and discard it): an
/// upstream socket carries one response at a time, so the attached client's turn would wait
/// for the whole abandoned answer (minutes, at the account's expense) that nobody reads; a
/// reconnecting Codex client resends its full context anyway (codex-protocol §3.6), so the
/// socket's per-connection response cache is worth nothing to it. Closing the socket moves the
/// stream to a new socket generation, so not one frame of the abandoned answer can follow.
void cancel_turn(stream_self* self) {
  auto& st = self->state;
  auto& t = *st.turn;
  if (t.grant) {
    if (!t.reported) {
      close_socket(self);
      record_attempt(t, domain::attempt_outcome::cancelled, false, "client_closed", std::nullopt);
      report(self, domain::attempt_outcome::cancelled);
    }
  }
  t.cancelled = true;
  end_turn(self, std::nullopt, 499);
}

domain::attempt_state attempt_state_of(const active_turn& t) {
  domain::attempt_state state;
  state.visible = t.visible;
  state.refreshed = t.refreshed;
  state.reconnected = t.reconnected;
  state.failover_allowed = t.grant && !t.grant->pinned;
  state.reused = t.reused;
  return state;
}

void settle(stream_self* self, const domain::turn_signal& signal,
            std::optional<time_point> exhausted_until) {
  auto& t = *self->state.turn;
  switch (domain::judge(signal, attempt_state_of(t))) {
  case domain::turn_verdict::refresh_token:
    return refresh(self, signal);
  case domain::turn_verdict::reconnect:
    t.reconnected = true;
    t.reused = false;
    t.prelude.clear();
    record_attempt(t, domain::outcome_of(signal), true, domain::attempt_error_code(signal),
                   signal.status ? std::optional<int32_t>{signal.status} : std::nullopt);
    t.attempt_started = steady_clock::now();
    return open_socket(self);
  case domain::turn_verdict::fail_over:
    return attempt_failed(self, signal, exhausted_until, true);
  default:
    return attempt_failed(self, signal, exhausted_until, false);
  }
}

void attempt_failed(stream_self* self, const domain::turn_signal& signal,
                    std::optional<time_point> exhausted_until, bool retry) {
  auto& st = self->state;
  auto& t = *st.turn;
  const auto outcome = domain::outcome_of(signal);
  record_attempt(t, outcome, retry, domain::attempt_error_code(signal),
                 signal.status ? std::optional<int32_t>{signal.status} : std::nullopt);
  report(self, outcome, exhausted_until);
  close_socket(self);
  t.tried.push_back(t.grant->account_id);
  const bool pinned = t.grant->pinned;
  if (!retry || pinned || static_cast<int32_t>(t.tried.size()) >= t.grant->ring_size) {
    if (!t.last_error_frame.empty()) {
      flush_prelude(self);
      relay(self, with_pooled_headers(self, std::move(t.last_error_frame), t.grant->quota),
            nullptr);
      return end_turn(self, std::nullopt, t.last_error_status);
    }
    const auto error =
      pinned ? errc::pinned_continuation_unavailable : errc::upstream_request_failed;
    return end_turn(self, std::nullopt, 503, error);
  }
  st.deps->metrics.failovers.add({{"reason", std::string{domain::to_string(outcome)}}}).increment();
  t.prelude.clear();
  lease(self);
}

void begin_attempt(stream_self* self) {
  auto& st = self->state;
  auto& t = *st.turn;
  t.attempt_started = steady_clock::now();
  t.attempt_started_at = to_iso8601(st.deps->clock.now());
  t.reported = false;
  t.prelude.clear();
  t.quota.clear(); // what the previous attempt observed was about another lease's account
  if (st.socket && st.socket_open && st.socket_account == t.grant->account_id) {
    t.reused = true;
    t.awaiting_open = false;
    st.socket->send(t.request.frame, nullptr);
    note_activity(self, true);
    return;
  }
  t.reused = false;
  open_socket(self);
}

void refresh(stream_self* self, const domain::turn_signal& signal) {
  auto& st = self->state;
  auto& t = *st.turn;
  t.refreshed = true;
  record_attempt(t, domain::outcome_of(signal), true, domain::attempt_error_code(signal),
                 signal.status ? std::optional<int32_t>{signal.status} : std::nullopt);
  close_socket(self);
  self->request(t.grant->account, lease_timeout, refresh_atom::value, t.grant->token_generation)
    .then(
      [self, serial = t.serial](lease_grant& fresh) {
        auto& turn = self->state.turn;
        if (!turn || turn->serial != serial) {
          return; // cancelled meanwhile; its report already ended the lease
        }
        fresh.pool = turn->grant->pool;
        fresh.pinned = turn->grant->pinned;
        fresh.probe = turn->grant->probe;
        fresh.ring_size = turn->grant->ring_size;
        fresh.settings = turn->grant->settings;
        fresh.quota = turn->grant->quota;
        turn->grant = std::move(fresh);
        turn->attempt_started = steady_clock::now();
        turn->attempt_started_at = to_iso8601(self->state.deps->clock.now());
        turn->reused = false;
        open_socket(self);
      },
      [self, serial = t.serial](caf::error&) {
        if (!self->state.turn || self->state.turn->serial != serial) {
          return;
        }
        domain::turn_signal reauth;
        reauth.kind = domain::signal_kind::transport_failure;
        reauth.status = 401;
        reauth.code = "reauth_required";
        attempt_failed(self, reauth, std::nullopt,
                       attempt_state_of(*self->state.turn).failover_allowed);
      });
}

void on_lease(stream_self* self, lease_reply& reply) {
  auto& t = *self->state.turn;
  auto& decision = reply.grant ? reply.grant->routing : reply.denial.routing;
  decision.attempt = static_cast<int32_t>(t.log.attempts.size() + 1);
  t.routing.push_back(std::move(decision));
  if (!reply.grant) {
    if (!t.last_error_frame.empty()) {
      const auto& evidence = reply.denial.quota.members ? reply.denial.quota : t.grant->quota;
      flush_prelude(self);
      relay(self, with_pooled_headers(self, std::move(t.last_error_frame), evidence), nullptr);
      return end_turn(self, std::nullopt, t.last_error_status);
    }
    const auto code = reply.denial.code;
    const bool limited =
      code == errc::usage_limit_reached || code == errc::api_key_policy_limit_exceeded;
    if (limited) {
      send_rate_limits(self, reply.denial.quota); // the client sees why, then the error
    }
    // Only the key-cap refusal carries a public message (which cap, when it frees).
    return end_turn(self, std::nullopt, limited ? 429 : 503, code,
                    code == errc::api_key_policy_limit_exceeded ? reply.denial.message
                                                                : std::string{});
  }
  t.grant = std::move(*reply.grant);
  if (t.grant->account_id != self->state.account && self->state.registry) {
    self->state.account = t.grant->account_id;
    self->send(self->state.registry, stream_account{self, self->state.account});
  }
  self->state.settings = t.grant->settings;
  t.log.account_id = t.grant->account_id;
  begin_attempt(self);
}

void lease(stream_self* self) {
  auto& t = *self->state.turn;
  lease_request request;
  request.pool_id = t.request.pool_id;
  request.request_id = t.request.request_id;
  request.model = t.request.model;
  request.route = route_class::responses;
  request.session_key = t.request.session_key;
  request.seed = t.request.seed;
  request.tried = t.tried;
  request.api_key_id = t.request.api_key_id;
  request.account_hint = t.account_hint;
  if (t.request.max_requests_per_minute >= 0) {
    request.caps.requests_per_minute = static_cast<int32_t>(t.request.max_requests_per_minute);
  }
  if (t.request.max_tokens_per_day >= 0) {
    request.caps.tokens_per_day = t.request.max_tokens_per_day;
  }
  if (t.request.max_tokens_per_week >= 0) {
    request.caps.tokens_per_week = t.request.max_tokens_per_week;
  }
  self->request(self->state.deps->directory, lease_timeout, std::move(request))
    .then(
      [self, serial = t.serial, model = t.request.model,
       session = t.request.session_key](lease_reply& reply) {
        if (self->state.turn && self->state.turn->serial == serial) {
          return on_lease(self, reply);
        }
        if (reply.grant) {
          // The turn was cancelled while it waited: give the lease straight back.
          attempt_report out;
          out.account_id = reply.grant->account_id;
          out.model = model;
          out.route = route_class::responses;
          out.session_key = session;
          out.result = attempt_result::cancelled;
          out.probe = reply.grant->probe;
          self->send(reply.grant->pool, std::move(out));
        }
      },
      [self, serial = t.serial](caf::error& error) {
        if (!self->state.turn || self->state.turn->serial != serial) {
          return;
        }
        log::warn("stream", "lease request failed", {{"detail", context_of(error)}});
        end_turn(self, std::nullopt, 503, errc::service_unavailable);
      });
}

void start_next(stream_self* self) {
  auto& st = self->state;
  if (st.turn) {
    return;
  }
  if (st.queue.empty()) {
    settle_drain(self);
    if (!st.connection) {
      arm_expiry(self);
    }
    sync_parking(self);
    return;
  }
  st.turn.emplace();
  auto& t = *st.turn;
  t.serial = ++st.turn_serial;
  t.request = std::move(st.queue.front());
  st.queue.pop_front();
  st.api_key_id = t.request.api_key_id;
  t.account_hint = st.account;
  t.log.id = t.request.request_id;
  t.log.occurred_at = to_iso8601(st.deps->clock.now());
  t.log.pool_id = t.request.pool_id;
  t.log.api_key_id = t.request.api_key_id;
  t.log.route = t.request.route;
  t.log.transport = "websocket";
  t.log.model = t.request.model;
  if (!t.request.service_tier.empty()) {
    t.log.service_tier = t.request.service_tier;
  }
  if (!t.request.session_key.empty()) {
    t.log.session_key_hash = t.request.session_key;
  }
  if (!t.request.client_ip.empty()) {
    t.log.client_ip = t.request.client_ip;
  }
  if (!t.request.client.empty()) {
    t.log.client = t.request.client;
  }
  if (!owned(st, t.request)) {
    // Queued by a connection that is gone: nobody would read it, so it never goes upstream.
    t.cancelled = true;
    return end_turn(self, std::nullopt, 499);
  }
  lease(self);
}

} // namespace cxp::actors::detail
