#include <caf/event_based_actor.hpp>

#include "actors/stream/stream_state.hpp"
#include "actors/type_ids.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::actors::detail {

int64_t millis(steady_clock::duration took) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
}

void record_attempt(active_turn& t, const std::string& outcome, std::optional<std::string> code,
                    std::optional<int32_t> status) {
  persistence::request_attempt_row attempt;
  attempt.id = new_uuid();
  attempt.attempt_number = static_cast<int32_t>(t.log.attempts.size() + 1);
  attempt.account_id = t.grant ? t.grant->account_id : std::string{};
  attempt.started_at = t.attempt_started_at;
  attempt.status_code = status;
  attempt.outcome = outcome;
  attempt.error_code = std::move(code);
  attempt.latency_ms = millis(steady_clock::now() - t.attempt_started);
  t.log.attempts.push_back(std::move(attempt));
}

/// Tells the granting pool how the attempt ended (this also ends the account's lease).
void report(stream_self* self, attempt_result result, std::optional<time_point> exhausted_until) {
  auto& t = *self->state.turn;
  if (!t.grant || t.reported) {
    return;
  }
  t.reported = true;
  self->state.deps->metrics.upstream_attempts.add({{"outcome", std::string{to_string(result)}}})
    .increment();
  attempt_report out;
  out.account_id = t.grant->account_id;
  out.model = t.request.model;
  out.route = route_class::responses;
  out.session_key = t.request.session_key;
  out.result = result;
  out.probe = t.grant->probe;
  out.quota = std::move(t.quota);
  out.exhausted_until = exhausted_until;
  if (!t.plan_type.empty()) {
    out.plan_type = t.plan_type;
  }
  out.api_key_id = t.request.api_key_id;
  out.tokens = t.log.input_tokens.value_or(0) + t.log.output_tokens.value_or(0);
  t.quota.clear();
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
  auto prelude = std::move(self->state.turn->prelude);
  self->state.turn->prelude.clear();
  for (auto& frame : prelude) {
    relay(self, std::move(frame), nullptr);
  }
}

/// Ends the running turn: the pool report (when still due), the request-log row, the done
/// message and the response-id alias; then the next queued turn.
void end_turn(stream_self* self, bool ok, int32_t status, errc gateway_error, std::string message) {
  auto& st = self->state;
  auto& t = *st.turn;
  const bool gateway_failed = gateway_error != errc{};
  if (t.grant && !t.reported) {
    record_attempt(t, ok ? "succeeded" : "failed",
                   ok ? std::nullopt : std::optional<std::string>{"upstream_error_frame"}, status);
    report(self, ok ? attempt_result::succeeded : attempt_result::rejected);
  }
  t.log.status_code = status;
  t.log.outcome = ok ? "succeeded" : (t.log.attempts.empty() ? "rejected" : "failed");
  if (t.cancelled) {
    t.log.outcome = "cancelled";
    t.log.error_code = "client_closed";
  } else if (gateway_failed) {
    t.log.error_code = std::string{to_string(gateway_error)};
  } else if (!ok) {
    t.log.error_code = "upstream_error";
  }
  if (t.grant) {
    t.log.account_id = t.grant->account_id;
  }
  const auto took = steady_clock::now() - t.started;
  t.log.latency_ms = millis(took);
  auto& metrics = st.deps->metrics;
  metrics.requests.add({{"route", t.log.route}, {"status", std::to_string(status)}}).increment();
  metrics.request_duration.add({{"route", t.log.route}})
    .observe(std::chrono::duration<double>(took).count());
  stream_turn_done done;
  done.turn_id = t.request.turn_id;
  done.ok = ok;
  done.error_code = static_cast<uint8_t>(gateway_error);
  done.message = std::move(message);
  done.account_id = t.grant ? t.grant->account_id : std::string{};
  if (ok && !t.response_id.empty() && st.registry) {
    self->send(st.registry,
               stream_alias{persistence::sha256_hex(t.request.alias_salt
                                                    + ":previous_response_id:" + t.response_id),
                            caf::actor_cast<caf::actor>(self)});
  }
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
      record_attempt(t, "cancelled", "client_closed", std::nullopt);
      report(self, attempt_result::cancelled);
    }
  }
  t.cancelled = true;
  end_turn(self, false, 499);
}

/// A failed attempt before anything visible: report it and try the next account, unless the
/// session is pinned or the ring is spent.
void attempt_failed(stream_self* self, attempt_result result, const std::string& code,
                    std::optional<time_point> exhausted_until) {
  auto& st = self->state;
  auto& t = *st.turn;
  record_attempt(t, "retryable_failed", code,
                 t.last_error_status ? std::optional<int32_t>{t.last_error_status} : std::nullopt);
  report(self, result, exhausted_until);
  close_socket(self);
  t.tried.push_back(t.grant->account_id);
  const bool pinned = t.grant->pinned;
  if (pinned || static_cast<int32_t>(t.tried.size()) >= t.grant->ring_size) {
    if (!t.last_error_frame.empty()) {
      flush_prelude(self);
      relay(self, std::move(t.last_error_frame), nullptr);
      return end_turn(self, false, t.last_error_status);
    }
    const auto error =
      pinned ? errc::pinned_continuation_unavailable : errc::upstream_request_failed;
    return end_turn(self, false, 503, error);
  }
  st.deps->metrics.failovers
    .add({{"reason", code == "usage_limit_reached" ? code : "network_error"}})
    .increment();
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

void refresh(stream_self* self) {
  auto& st = self->state;
  auto& t = *st.turn;
  t.refreshed = true;
  record_attempt(t, "retryable_failed", "upstream_401", 401);
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
        attempt_failed(self, attempt_result::unauthorized, "reauth_required");
      });
}

void on_lease(stream_self* self, lease_reply& reply) {
  auto& t = *self->state.turn;
  if (!reply.grant) {
    if (!t.last_error_frame.empty()) {
      flush_prelude(self);
      relay(self, std::move(t.last_error_frame), nullptr);
      return end_turn(self, false, t.last_error_status);
    }
    const auto code = reply.denial.code;
    const bool limited =
      code == errc::usage_limit_reached || code == errc::api_key_policy_limit_exceeded;
    // Only the key-cap refusal carries a public message (which cap, when it frees).
    return end_turn(self, false, limited ? 429 : 503, code,
                    code == errc::api_key_policy_limit_exceeded ? reply.denial.message
                                                                : std::string{});
  }
  t.grant = std::move(*reply.grant);
  if (t.grant->account_id != self->state.account && self->state.registry) {
    self->state.account = t.grant->account_id;
    self->send(self->state.registry,
               stream_account{caf::actor_cast<caf::actor>(self), self->state.account});
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
  request.account_hint = self->state.account;
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
        end_turn(self, false, 503, errc::service_unavailable);
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
  t.log.id = t.request.request_id;
  t.log.occurred_at = to_iso8601(st.deps->clock.now());
  t.log.pool_id = t.request.pool_id;
  t.log.api_key_id = t.request.api_key_id;
  t.log.route = t.request.route;
  t.log.transport = "websocket";
  t.log.model = t.request.model;
  if (!t.request.session_key.empty()) {
    t.log.session_key_hash = t.request.session_key;
  }
  if (!t.request.client_ip.empty()) {
    t.log.client_ip = t.request.client_ip;
  }
  if (!owned(st, t.request)) {
    // Queued by a connection that is gone: nobody would read it, so it never goes upstream.
    t.cancelled = true;
    return end_turn(self, false, 499);
  }
  lease(self);
}

} // namespace cxp::actors::detail
