#include <cctype>
#include <map>

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/stream/stream_state.hpp"
#include "actors/type_ids.hpp"
#include "domain/routing/quota.hpp"
#include "domain/turn/turn_policy.hpp"

namespace cxp::actors::detail {

namespace {

using nlohmann::json;

constexpr std::string_view beta_header = "responses_websockets=2026-02-06";

std::optional<int64_t> int_at(const json& object, const json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object.at(pointer).is_number_integer()) {
    return std::nullopt;
  }
  return object.at(pointer).get<int64_t>();
}

void arm_watchdog(stream_self* self) {
  auto& st = self->state;
  if (st.watchdog_armed || !st.turn) {
    return;
  }
  st.watchdog_armed = true;
  self->delayed_send(self, st.silence_limit, tick_atom::value, st.turn->serial);
}

/// One server frame of the running turn.
void on_upstream_frame(stream_self* self, std::string text, std::function<void()> resume) {
  auto& st = self->state;
  auto& t = *st.turn;
  auto parsed = json::parse(text, nullptr, false);
  const auto frame = domain::read_upstream_frame(parsed);
  if (frame.type == "codex.rate_limits") {
    t.quota = domain::merge_windows(std::move(t.quota),
                                    domain::parse_rate_limits_event(parsed, st.deps->clock.now()));
  }
  if (frame.type == "response.created" && t.response_id.empty()) {
    t.response_id = frame.response_id;
  }
  switch (domain::judge_frame(frame, t.visible, t.refreshed, t.reconnected)) {
  case domain::frame_verdict::hold:
    t.prelude.push_back(std::move(text));
    return resume();
  case domain::frame_verdict::refresh_token:
    resume();
    return refresh(self);
  case domain::frame_verdict::reconnect:
    resume();
    t.reconnected = true;
    return open_socket(self);
  case domain::frame_verdict::fail_over: {
    resume();
    t.last_error_frame = std::move(text);
    t.last_error_status = frame.status;
    std::optional<time_point> reset;
    if (frame.quota) {
      const auto now = st.deps->clock.now();
      const auto& error = parsed["error"];
      reset = domain::parse_usage_limit_reset(json{{"error", error}}, now);
      if (error.contains("plan_type") && error["plan_type"].is_string()) {
        t.plan_type = error["plan_type"].get<std::string>();
      }
      // The frame's `headers` are the 429's quota headers; a per-model limit blocks only that
      // model on this account.
      const auto headers = domain::frame_headers(parsed);
      t.quota =
        domain::merge_windows(std::move(t.quota), domain::parse_rate_limit_headers(headers, now));
      const auto active = headers.find("x-codex-active-limit");
      auto evidence =
        domain::usage_limit_of(reset, active == headers.end() ? "" : active->second, t.quota, now);
      if (evidence.family_window) {
        t.quota.push_back(std::move(*evidence.family_window));
      }
      reset = evidence.account_until;
    }
    return attempt_failed(
      self, frame.quota ? attempt_result::usage_limited : attempt_result::upstream_error,
      frame.quota ? "usage_limit_reached" : "upstream_" + std::to_string(frame.status), reset);
  }
  case domain::frame_verdict::failed: {
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
  case domain::frame_verdict::completed: {
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
  case domain::frame_verdict::relay:
    t.visible = true;
    flush_prelude(self);
    return relay(self, std::move(text), std::move(resume));
  }
}

} // namespace

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

} // namespace cxp::actors::detail
