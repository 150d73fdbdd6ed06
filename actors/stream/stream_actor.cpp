#include "actors/stream/stream_actor.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <map>
#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/pool/routing_messages.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/routing/quota.hpp"
#include "actors/stream/turn_policy.hpp"
#include "actors/type_ids.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::actors::detail {

/// What an upstream socket reports to its stream actor (node-local: carries a closure).
struct socket_event {
  enum class kind : uint8_t { opened, open_failed, message, closed };
  kind what = kind::closed;
  uint64_t generation = 0;
  std::string text;
  unsigned status = 0;
  std::function<void()> resume;
};

} // namespace cxp::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cxp::actors::detail::socket_event)

namespace cxp::actors {

namespace {

/// The `headers` object of a websocket error frame as HTTP headers (lower-case names, values as
/// text).
std::map<std::string, std::string> frame_headers(const nlohmann::json& frame) {
  std::map<std::string, std::string> headers;
  const auto found = frame.find("headers");
  if (found == frame.end() || !found->is_object()) {
    return headers;
  }
  for (const auto& [name, value] : found->items()) {
    std::string lower;
    for (const char c : name) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    headers[lower] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return headers;
}

using detail::socket_event;
using nlohmann::json;
using std::chrono::steady_clock;

constexpr auto lease_timeout = std::chrono::seconds{70};
constexpr std::string_view beta_header = "responses_websockets=2026-02-06";

int64_t millis(steady_clock::duration took) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
}

std::optional<int64_t> int_at(const json& object, const json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object.at(pointer).is_number_integer()) {
    return std::nullopt;
  }
  return object.at(pointer).get<int64_t>();
}

/// The running turn: its lease, what it has relayed, and its request-log row.
struct active_turn {
  uint64_t serial = 0;
  stream_turn request;
  std::optional<lease_grant> grant;
  std::vector<std::string> tried;
  bool awaiting_open = false; ///< the frame goes out once the socket opens
  bool visible = false;       ///< a non-prelude frame reached the client
  bool reused = false;        ///< this attempt runs on a socket an earlier turn opened
  bool reconnected = false;
  bool refreshed = false;
  bool reported = false; ///< the current attempt's report went to the pool
  std::vector<std::string> prelude;
  std::string last_error_frame; ///< an upstream error kept for when no account is left
  int32_t last_error_status = 0;
  std::vector<quota_window> quota;
  std::string plan_type;
  std::string response_id;
  steady_clock::time_point started = steady_clock::now();
  steady_clock::time_point attempt_started = steady_clock::now();
  std::string attempt_started_at;
  persistence::request_log_row log;
};

struct stream_state {
  const stream_deps* deps = nullptr;
  caf::actor registry;
  std::string account; ///< the account the session is served on (or its lease's, until then)
  caf::actor connection;
  uint64_t connection_id = 0;
  header_list client_headers;
  uint64_t detach_epoch = 0;
  std::shared_ptr<upstream_socket> socket;
  uint64_t generation = 0;
  bool socket_open = false;
  std::string socket_account;
  std::deque<stream_turn> queue;
  std::optional<active_turn> turn;
  uint64_t next_seq = 0;
  uint64_t acked = 0;
  std::function<void()> paused_resume;
  settings_snapshot settings;
  uint64_t turn_serial = 0;
  /// Upstream watchdog of the running turn: the last upstream activity, the allowed silence
  /// (first-byte timeout until the first frame, then the receive timeout) and whether a check
  /// is pending (one timer per turn, re-armed for the remainder).
  steady_clock::time_point last_activity;
  std::chrono::milliseconds silence_limit{0};
  bool watchdog_armed = false;
  /// Drain requests waiting for the running and queued turns to finish.
  std::vector<caf::response_promise> drained;
  static inline const char* name = "stream_actor";
};

using stream_self = caf::stateful_actor<stream_state>;

void start_next(stream_self* self);
void lease(stream_self* self);
void open_socket(stream_self* self);

std::chrono::milliseconds owner_idle(stream_self* self) {
  if (self->state.settings) {
    return std::chrono::milliseconds{
      self->state.settings->get_int("gateway.websocket_owner_idle_timeout_ms")};
  }
  return self->state.deps->default_owner_idle;
}

void arm_expiry(stream_self* self) {
  const auto epoch = ++self->state.detach_epoch;
  self->delayed_send(self, owner_idle(self), expire_atom::value, epoch);
}

void close_socket(stream_self* self) {
  auto& st = self->state;
  if (st.socket) {
    st.socket->close();
  }
  st.socket.reset();
  st.socket_open = false;
  st.socket_account.clear();
  ++st.generation;
  st.paused_resume = nullptr;
}

void arm_watchdog(stream_self* self) {
  auto& st = self->state;
  if (st.watchdog_armed || !st.turn) {
    return;
  }
  st.watchdog_armed = true;
  self->delayed_send(self, st.silence_limit, tick_atom::value, st.turn->serial);
}

/// Upstream showed life (the frame went out, or a server frame arrived).
void note_activity(stream_self* self, bool first_byte_pending) {
  auto& st = self->state;
  if (!st.turn || !st.turn->grant) {
    return;
  }
  const auto& settings = *st.turn->grant->settings;
  st.silence_limit = std::chrono::milliseconds{
    settings.get_int(first_byte_pending ? "gateway.upstream_first_byte_timeout_ms"
                                        : "gateway.upstream_receive_timeout_ms")};
  st.last_activity = steady_clock::now();
  arm_watchdog(self);
}

/// Answers the drain requests once no turn is running or queued and the attached connection
/// has acknowledged every frame (so a node that exits next loses none of them).
void settle_drain(stream_self* self) {
  auto& st = self->state;
  if (st.drained.empty() || st.turn || !st.queue.empty()
      || (st.connection && st.acked < st.next_seq)) {
    return;
  }
  for (auto& promise : std::exchange(st.drained, {})) {
    promise.deliver(true);
  }
}

void detach(stream_self* self) {
  auto& st = self->state;
  if (st.connection) {
    self->demonitor(st.connection);
  }
  st.connection = nullptr;
  st.connection_id = 0;
  if (st.paused_resume) {
    std::exchange(st.paused_resume, nullptr)();
  }
  settle_drain(self);
  arm_expiry(self);
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
void report(stream_self* self, attempt_result result,
            std::optional<time_point> exhausted_until = std::nullopt) {
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
  if (!st.connection) {
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
void end_turn(stream_self* self, bool ok, int32_t status, errc gateway_error = errc{},
              std::string message = {}) {
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
  if (gateway_failed) {
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
  if (st.connection) {
    self->send(st.connection, std::move(done));
  }
  st.turn.reset();
  start_next(self);
}

/// A failed attempt before anything visible: report it and try the next account, unless the
/// session is pinned or the ring is spent.
void attempt_failed(stream_self* self, attempt_result result, const std::string& code,
                    std::optional<time_point> exhausted_until = std::nullopt) {
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

void open_socket(stream_self* self) {
  auto& st = self->state;
  auto& t = *st.turn;
  close_socket(self);
  const auto generation = st.generation;
  header_list headers;
  headers.emplace_back("authorization", "Bearer " + t.grant->access_token.expose());
  if (!t.grant->chatgpt_account_id.empty()) {
    headers.emplace_back("chatgpt-account-id", t.grant->chatgpt_account_id);
  }
  headers.emplace_back("openai-beta", std::string{beta_header});
  for (const auto& [name, value] : st.client_headers) {
    if (name != "authorization" && name != "chatgpt-account-id" && name != "openai-beta"
        && name != "content-type" && name != "accept") {
      headers.emplace_back(name, value);
    }
  }
  auto me = caf::actor_cast<caf::actor>(self);
  ws_socket_handler handler;
  handler.on_open = [me, generation](ws_open_result result) {
    socket_event event;
    event.what = result.ok ? socket_event::kind::opened : socket_event::kind::open_failed;
    event.generation = generation;
    event.status = result.status;
    event.text = std::move(result.failure);
    caf::anon_send(me, std::move(event));
  };
  handler.on_message = [me, generation](std::string text, std::function<void()> resume) {
    socket_event event;
    event.what = socket_event::kind::message;
    event.generation = generation;
    event.text = std::move(text);
    event.resume = std::move(resume);
    caf::anon_send(me, std::move(event));
  };
  handler.on_closed = [me, generation](std::string reason) {
    socket_event event;
    event.what = socket_event::kind::closed;
    event.generation = generation;
    event.text = std::move(reason);
    caf::anon_send(me, std::move(event));
  };
  const auto connect_timeout =
    std::chrono::milliseconds{t.grant->settings->get_int("gateway.upstream_connect_timeout_ms")};
  t.awaiting_open = true;
  st.socket_account = t.grant->account_id;
  st.socket = open_upstream_socket(
    st.deps->transport, st.deps->upstream_base_url + "/codex/responses", std::move(headers),
    connect_timeout, st.deps->max_message_bytes, std::move(handler));
}

void refresh(stream_self* self) {
  auto& st = self->state;
  auto& t = *st.turn;
  t.refreshed = true;
  record_attempt(t, "retryable_failed", "upstream_401", 401);
  close_socket(self);
  self->request(t.grant->account, lease_timeout, refresh_atom::value, t.grant->token_generation)
    .then(
      [self](lease_grant& fresh) {
        auto& turn = self->state.turn;
        if (!turn) {
          return;
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
      [self](caf::error&) {
        if (!self->state.turn) {
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
    .then([self](lease_reply& reply) { on_lease(self, reply); },
          [self](caf::error& error) {
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
    return;
  }
  st.turn.emplace();
  auto& t = *st.turn;
  t.serial = ++st.turn_serial;
  t.request = std::move(st.queue.front());
  st.queue.pop_front();
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
  lease(self);
}

/// One server frame of the running turn.
void on_upstream_frame(stream_self* self, std::string text, std::function<void()> resume) {
  auto& st = self->state;
  auto& t = *st.turn;
  auto parsed = json::parse(text, nullptr, false);
  const auto frame = read_upstream_frame(parsed);
  if (frame.type == "codex.rate_limits") {
    t.quota =
      merge_windows(std::move(t.quota), parse_rate_limits_event(parsed, st.deps->clock.now()));
  }
  if (frame.type == "response.created" && t.response_id.empty()) {
    t.response_id = frame.response_id;
  }
  switch (judge_frame(frame, t.visible, t.refreshed, t.reconnected)) {
  case frame_verdict::hold:
    t.prelude.push_back(std::move(text));
    return resume();
  case frame_verdict::refresh_token:
    resume();
    return refresh(self);
  case frame_verdict::reconnect:
    resume();
    t.reconnected = true;
    return open_socket(self);
  case frame_verdict::fail_over: {
    resume();
    t.last_error_frame = std::move(text);
    t.last_error_status = frame.status;
    std::optional<time_point> reset;
    if (frame.quota) {
      const auto now = st.deps->clock.now();
      const auto& error = parsed["error"];
      reset = parse_usage_limit_reset(json{{"error", error}}, now);
      if (error.contains("plan_type") && error["plan_type"].is_string()) {
        t.plan_type = error["plan_type"].get<std::string>();
      }
      // The frame's `headers` are the 429's quota headers; a per-model limit blocks only that
      // model on this account.
      const auto headers = frame_headers(parsed);
      t.quota = merge_windows(std::move(t.quota), parse_rate_limit_headers(headers, now));
      const auto active = headers.find("x-codex-active-limit");
      auto evidence =
        usage_limit_of(reset, active == headers.end() ? "" : active->second, t.quota, now);
      if (evidence.family_window) {
        t.quota.push_back(std::move(*evidence.family_window));
      }
      reset = evidence.account_until;
    }
    return attempt_failed(
      self, frame.quota ? attempt_result::usage_limited : attempt_result::upstream_error,
      frame.quota ? "usage_limit_reached" : "upstream_" + std::to_string(frame.status), reset);
  }
  case frame_verdict::failed: {
    t.visible = true;
    flush_prelude(self);
    relay(self, std::move(text), std::move(resume));
    if (frame.type != "error") {
      return end_turn(self, false, 200);
    }
    record_attempt(t, "failed", frame.code.empty() ? "upstream_error" : frame.code, frame.status);
    report(self, frame.status == 401 ? attempt_result::unauthorized : attempt_result::rejected);
    return end_turn(self, false, frame.status > 0 ? frame.status : 502);
  }
  case frame_verdict::completed: {
    t.visible = true;
    flush_prelude(self);
    const auto& response = parsed["response"];
    t.log.input_tokens = int_at(response, "/usage/input_tokens"_json_pointer);
    t.log.cached_input_tokens =
      int_at(response, "/usage/input_tokens_details/cached_tokens"_json_pointer);
    t.log.output_tokens = int_at(response, "/usage/output_tokens"_json_pointer);
    t.log.reasoning_tokens =
      int_at(response, "/usage/output_tokens_details/reasoning_tokens"_json_pointer);
    if (t.response_id.empty()) {
      t.response_id = frame.response_id;
    }
    relay(self, std::move(text), std::move(resume));
    return end_turn(self, true, 200);
  }
  case frame_verdict::relay:
    t.visible = true;
    flush_prelude(self);
    return relay(self, std::move(text), std::move(resume));
  }
}

void on_socket_event(stream_self* self, socket_event& event) {
  auto& st = self->state;
  if (event.generation != st.generation) {
    if (event.resume) {
      event.resume();
    }
    return;
  }
  switch (event.what) {
  case socket_event::kind::opened:
    st.socket_open = true;
    if (st.turn && st.turn->awaiting_open) {
      st.turn->awaiting_open = false;
      st.socket->send(st.turn->request.frame, nullptr);
      note_activity(self, true);
    }
    return;
  case socket_event::kind::open_failed: {
    st.socket.reset();
    st.socket_open = false;
    st.socket_account.clear();
    if (!st.turn) {
      return;
    }
    auto& t = *st.turn;
    t.last_error_status = static_cast<int32_t>(event.status);
    if (event.status == 401 && !t.refreshed) {
      return refresh(self);
    }
    const auto result = event.status == 429   ? attempt_result::usage_limited
                        : event.status == 401 ? attempt_result::unauthorized
                        : event.status >= 500 ? attempt_result::upstream_error
                                              : attempt_result::network_error;
    return attempt_failed(self, result,
                          event.status ? "upgrade_" + std::to_string(event.status) : event.text);
  }
  case socket_event::kind::message:
    if (!st.turn || st.turn->awaiting_open) {
      // Nothing asked for it (e.g. a late frame after a turn ended): drop it.
      return event.resume();
    }
    note_activity(self, false);
    return on_upstream_frame(self, std::move(event.text), std::move(event.resume));
  case socket_event::kind::closed:
    st.socket.reset();
    st.socket_open = false;
    st.socket_account.clear();
    st.paused_resume = nullptr;
    if (!st.turn || st.turn->awaiting_open || !st.turn->grant) {
      return;
    }
    auto& t = *st.turn;
    if (!t.visible) {
      if (t.reused && !t.reconnected) {
        // The socket an earlier turn left open died meanwhile: one fresh connection, same lease.
        t.reconnected = true;
        t.reused = false;
        t.prelude.clear();
        record_attempt(t, "retryable_failed", "reused_socket_closed", std::nullopt);
        t.attempt_started = steady_clock::now();
        return open_socket(self);
      }
      return attempt_failed(self, attempt_result::network_error, "upstream_closed");
    }
    record_attempt(t, "failed", "upstream_closed_mid_stream", std::nullopt);
    report(self, attempt_result::network_error);
    return end_turn(self, false, 502, errc::upstream_request_failed);
  }
}

/// The running turn's upstream went silent for too long: the socket is dropped; a turn that
/// showed nothing yet may still move on, one that did ends with `stream_idle_timeout`.
void on_upstream_timeout(stream_self* self) {
  auto& t = *self->state.turn;
  if (t.awaiting_open) {
    return; // the connect timeout of the socket being opened covers this phase
  }
  close_socket(self);
  if (!t.visible) {
    return attempt_failed(self, attempt_result::network_error, "upstream_timeout");
  }
  record_attempt(t, "failed", "upstream_idle_timeout", std::nullopt);
  report(self, attempt_result::network_error);
  end_turn(self, false, 502, errc::stream_idle_timeout);
}

caf::behavior stream_behavior(stream_self* self, const stream_deps* deps, caf::actor registry,
                              std::string account_hint) {
  self->state.deps = deps;
  self->state.registry = std::move(registry);
  self->state.account = std::move(account_hint);
  self->set_down_handler([self](caf::down_msg& down) {
    if (self->state.connection && down.source == self->state.connection.address()) {
      detach(self);
    }
  });
  arm_expiry(self);
  return {
    [self](stream_attach& attach) {
      auto& st = self->state;
      if (st.connection && st.connection != attach.connection) {
        self->send(st.connection, stream_closed{"replaced"});
        self->demonitor(st.connection);
      }
      st.connection = std::move(attach.connection);
      st.connection_id = attach.connection_id;
      st.client_headers = std::move(attach.client_headers);
      ++st.detach_epoch;
      // Frames of an earlier connection will never be acknowledged.
      st.acked = st.next_seq;
      if (st.paused_resume) {
        std::exchange(st.paused_resume, nullptr)();
      }
      self->monitor(st.connection);
    },
    [self](stream_detach& request) {
      if (request.connection_id == self->state.connection_id && self->state.connection) {
        detach(self);
      }
    },
    [self](stream_turn& turn) {
      self->state.queue.push_back(std::move(turn));
      start_next(self);
    },
    [self](drain_atom) -> caf::result<bool> {
      self->state.drained.push_back(self->make_response_promise());
      settle_drain(self);
      return caf::delegated<bool>{};
    },
    [self](stream_forward& forward) {
      auto& st = self->state;
      if (st.socket && st.socket_open) {
        st.socket->send(std::move(forward.frame), nullptr);
      }
    },
    [self](stream_ack& ack) {
      auto& st = self->state;
      st.acked = std::max(st.acked, ack.seq);
      if (st.paused_resume && st.next_seq - st.acked < stream_ack_window) {
        std::exchange(st.paused_resume, nullptr)();
      }
      settle_drain(self);
    },
    [self](socket_event& event) { on_socket_event(self, event); },
    [self](tick_atom, uint64_t serial) {
      auto& st = self->state;
      st.watchdog_armed = false;
      if (!st.turn || st.turn->serial != serial) {
        return;
      }
      const auto silent = steady_clock::now() - st.last_activity;
      if (silent < st.silence_limit) {
        st.watchdog_armed = true;
        self->delayed_send(
          self,
          std::chrono::duration_cast<std::chrono::milliseconds>(st.silence_limit - silent)
            + std::chrono::milliseconds{1},
          tick_atom::value, serial);
        return;
      }
      on_upstream_timeout(self);
    },
    [self](expire_atom, uint64_t epoch) {
      auto& st = self->state;
      if (epoch != st.detach_epoch || st.connection || st.turn || !st.queue.empty()) {
        return;
      }
      close_socket(self);
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_stream_actor(caf::actor_system& system, const stream_deps& deps,
                              caf::actor registry, std::string account_hint) {
  return system.spawn(stream_behavior, &deps, std::move(registry), std::move(account_hint));
}

} // namespace cxp::actors
