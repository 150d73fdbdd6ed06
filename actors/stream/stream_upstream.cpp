#include <cctype>
#include <map>

#include <caf/typed_event_based_actor.hpp>
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

/// Reads what a usage-limit error frame says: the reset, the plan, and its `headers` (the
/// 429's quota headers; a per-model limit blocks only that model on this account).
std::optional<time_point> read_usage_limit(stream_self* self, const json& parsed) {
  auto& st = self->state;
  auto& t = *st.turn;
  const auto now = st.deps->clock.now();
  const auto error = parsed.value("error", json::object());
  auto reset = domain::parse_usage_limit_reset(json{{"error", error}}, now);
  if (error.contains("plan_type") && error["plan_type"].is_string()) {
    t.plan_type = error["plan_type"].get<std::string>();
  }
  const auto headers = domain::frame_headers(parsed);
  t.quota =
    domain::merge_windows(std::move(t.quota), domain::parse_rate_limit_headers(headers, now));
  const auto active = headers.find("x-codex-active-limit");
  auto evidence =
    domain::usage_limit_of(reset, active == headers.end() ? "" : active->second, t.quota, now);
  if (evidence.family_window) {
    t.quota.push_back(std::move(*evidence.family_window));
  }
  return evidence.account_until;
}

/// Relays a terminal frame and ends the turn as `outcome`.
void end_with_frame(stream_self* self, std::string text, std::function<void()> resume,
                    domain::attempt_outcome outcome, int32_t status) {
  auto& t = *self->state.turn;
  t.visible = true;
  flush_prelude(self);
  relay(self, std::move(text), std::move(resume));
  end_turn(self, outcome, status);
}

/// One server frame of the running turn.
void on_upstream_frame(stream_self* self, std::string text, std::function<void()> resume) {
  auto& st = self->state;
  auto& t = *st.turn;
  auto parsed = json::parse(text, nullptr, false);
  const auto frame = domain::read_upstream_frame(parsed);
  if (frame.type == "codex.rate_limits") {
    // One account's windows: learned, never relayed; the client gets the pool's instead.
    t.quota = domain::merge_windows(std::move(t.quota),
                                    domain::parse_rate_limits_event(parsed, st.deps->clock.now()));
    return resume();
  }
  if (frame.type == "response.created") {
    take_response_id(self, frame.response_id);
  }
  const bool error_frame = frame.type == "error";
  const auto outcome = domain::outcome_of(frame);
  std::optional<time_point> reset;
  if (error_frame && outcome == domain::attempt_outcome::usage_limited) {
    reset = read_usage_limit(self, parsed);
  }
  switch (domain::judge(frame, attempt_state_of(t))) {
  case domain::turn_verdict::hold:
    t.prelude.push_back(std::move(text));
    return resume();
  case domain::turn_verdict::refresh_token:
  case domain::turn_verdict::reconnect:
  case domain::turn_verdict::fail_over:
    resume();
    if (error_frame) {
      t.last_error_frame = std::move(text);
      t.last_error_status = frame.status;
    }
    return settle(self, frame, reset);
  case domain::turn_verdict::failed:
    if (error_frame && !t.visible) {
      // No failover allowed (a pinned session): the error goes out as the turn's end.
      resume();
      t.last_error_frame = std::move(text);
      t.last_error_status = frame.status;
      return settle(self, frame, reset);
    }
    t.last_error_code = domain::attempt_error_code(frame);
    return end_with_frame(self, std::move(text), std::move(resume), outcome,
                          error_frame ? (frame.status > 0 ? frame.status : 502) : 200);
  case domain::turn_verdict::reject:
    t.last_error_code = domain::attempt_error_code(frame);
    return end_with_frame(self, std::move(text), std::move(resume),
                          domain::attempt_outcome::rejected, frame.status > 0 ? frame.status : 400);
  case domain::turn_verdict::completed: {
    t.visible = true;
    flush_prelude(self);
    const auto& response = parsed["response"];
    t.log.input_tokens = int_at(response, "/usage/input_tokens"_json_pointer);
    t.log.cached_input_tokens =
      int_at(response, "/usage/input_tokens_details/cached_tokens"_json_pointer);
    t.log.output_tokens = int_at(response, "/usage/output_tokens"_json_pointer);
    t.log.reasoning_tokens =
      int_at(response, "/usage/output_tokens_details/reasoning_tokens"_json_pointer);
    take_response_id(self, frame.response_id);
    relay(self, std::move(text), std::move(resume));
    return end_turn(self, domain::attempt_outcome::succeeded, 200);
  }
  case domain::turn_verdict::relay:
    t.visible = true;
    flush_prelude(self);
    return relay(self, std::move(text), std::move(resume));
  }
}

/// The socket failed or went silent: before anything visible the policy retries, after it the
/// turn ends with `visible_error`.
void on_transport_failure(stream_self* self, domain::turn_signal failure, errc visible_error) {
  auto& t = *self->state.turn;
  if (!t.visible) {
    return settle(self, failure);
  }
  record_attempt(t, domain::outcome_of(failure), false, domain::attempt_error_code(failure),
                 std::nullopt);
  report(self, domain::outcome_of(failure));
  end_turn(self, std::nullopt, 502, visible_error);
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
  const auto& gateway = st.turn->grant->settings->gateway();
  st.silence_limit =
    first_byte_pending ? gateway.upstream_first_byte_timeout : gateway.upstream_receive_timeout;
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
  auto me = stream_impl{self};
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
  const auto connect_timeout = t.grant->settings->gateway().upstream_connect_timeout;
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
    domain::turn_signal refused;
    refused.kind = domain::signal_kind::transport_failure;
    refused.status = static_cast<int32_t>(event.status);
    refused.code = event.status ? std::string{} : std::move(event.text);
    return settle(self, refused);
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
    domain::turn_signal closed;
    closed.kind = domain::signal_kind::transport_failure;
    closed.code = "upstream_closed";
    return on_transport_failure(self, std::move(closed), errc::upstream_request_failed);
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
  domain::turn_signal silent;
  silent.kind = domain::signal_kind::transport_failure;
  silent.code = "upstream_timeout";
  on_transport_failure(self, std::move(silent), errc::stream_idle_timeout);
}

} // namespace cxp::actors::detail
