#include "edge/routes/codex/proxy_turn.hpp"

#include <array>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "actors/request_log/request_log_writer.hpp"
#include "actors/routing/quota.hpp"
#include "actors/type_ids.hpp"
#include "actors/upstream/sse_parser.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/codex/proxy_events.hpp"
#include "edge/server/actor_bridge.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::edge {

namespace {

namespace net = boost::asio;
using actors::attempt_result;
using nlohmann::json;
using std::chrono::steady_clock;

constexpr auto refresh_timeout = std::chrono::seconds{70};
constexpr size_t max_error_body_bytes = 1u << 20;
constexpr size_t max_prelude_bytes = 1u << 20;

/// Events that carry nothing the client shows; they may precede a failure we can still retry.
constexpr std::array<std::string_view, 3> prelude_events = {
  "response.created", "response.in_progress", "codex.rate_limits"};

/// Events whose JSON the proxy reads (usage, quota, failure codes); others pass unparsed.
constexpr std::array<std::string_view, 5> parsed_events = {
  "codex.rate_limits", "response.completed", "response.failed", "response.incomplete", "error"};

/// `response.failed` codes worth another account (notes §3.5).
constexpr std::array<std::string_view, 6> retryable_failure_codes = {
  "server_error",     "upstream_request_timeout", "stream_incomplete",
  "overloaded_error", "server_is_overloaded",     "websocket_connection_limit_reached"};
constexpr std::array<std::string_view, 3> quota_failure_codes = {
  "rate_limit_exceeded", "usage_limit_reached", "insufficient_quota"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::map<std::string, std::string> header_map(const actors::header_list& headers) {
  return {headers.begin(), headers.end()};
}

std::optional<int64_t> int_at(const json& object, const json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object.at(pointer).is_number_integer()) {
    return std::nullopt;
  }
  return object.at(pointer).get<int64_t>();
}

int64_t millis(steady_clock::duration took) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
}

/// The failure to send when every try failed: the last relayable upstream answer (status, type,
/// body, and the code logged for it), or a gateway error when there was none.
struct failed_answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  std::string code;
};

/// Whether an attempt's failure may reach the client as it came when no account is left.
enum class relay_policy { allowed, never };

enum class phase { leasing, awaiting_head, prelude, relaying, buffering, finished };

class proxy_turn : public std::enable_shared_from_this<proxy_turn> {
public:
  proxy_turn(codex_runtime& runtime, turn_request request)
      : runtime_(runtime),
        request_(std::move(request)),
        strand_(net::make_strand(runtime.io->local_or_next())),
        keepalive_timer_(strand_) {
    log_.id = new_uuid();
    log_.occurred_at = to_iso8601(runtime_.services.clock.now());
    log_.pool_id = request_.pool_id;
    log_.api_key_id = request_.api_key_id;
    log_.route = request_.ex->route_name();
    log_.transport = request_.route == actors::route_class::compact ? "http_json" : "http_sse";
    log_.model = request_.model;
    if (!request_.session_key_hash.empty()) {
      log_.session_key_hash = request_.session_key_hash;
    }
    log_.client_ip = request_.ex->client_ip();
  }

  void start() {
    net::post(strand_, [self = shared_from_this()] { self->admit(); });
  }

private:
  void admit() {
    // Answered on the strand: at once, or later from the bulkhead's queue.
    runtime_.admission->admit(request_.admission, strand_,
                              [self = shared_from_this()](caf::expected<admission_ticket> ticket) {
                                if (!ticket) {
                                  return self->fail(to_errc(ticket.error()),
                                                    context_of(ticket.error()));
                                }
                                self->ticket_ = std::move(*ticket);
                                self->request_lease();
                              });
  }

  // ---- leasing -------------------------------------------------------------------------------

  void request_lease() {
    phase_ = phase::leasing;
    actors::lease_request lease{
      request_.pool_id, log_.id, request_.model,      request_.route, request_.session_key_hash,
      request_.seed,    tried_,  request_.api_key_id, request_.caps,  {}};
    // No timer: the pool always answers (its own waits on account actors are bounded) and a
    // dead one bounces the request, so a clock registration per request would buy nothing.
    ask<actors::lease_reply>(
      runtime_.system, runtime_.directory, caf::infinite,
      [self = shared_from_this()](caf::expected<actors::lease_reply> reply) {
        net::post(self->strand_,
                  [self, r = std::move(reply)]() mutable { self->on_lease(std::move(r)); });
      },
      std::move(lease));
  }

  void on_lease(caf::expected<actors::lease_reply> reply) {
    if (!reply) {
      return fail(errc::service_unavailable, "lease request failed: " + context_of(reply.error()));
    }
    if (!reply->grant) {
      return on_denial(reply->denial);
    }
    grant_ = std::move(*reply->grant);
    refreshed_once_ = false; // each account gets its own refresh
    runtime_.admission->configure(grant_.settings);
    start_attempt();
  }

  void on_denial(const actors::lease_denial& denial) {
    if (last_failure_ && (denial.code == errc::no_eligible_account || grant_.pinned)) {
      return relay_failure();
    }
    if (denial.code == errc::usage_limit_reached) {
      return respond_usage_limit(denial);
    }
    if (denial.code == errc::api_key_policy_limit_exceeded) {
      // The denial says which cap and when it frees up: meant for the client.
      request_.ex->respond_error(denial.code, denial.message);
      return finish(429, std::string{to_string(denial.code)}, "rejected");
    }
    fail(denial.code, denial.message);
  }

  // ---- one attempt -----------------------------------------------------------------------------

  void start_attempt() {
    phase_ = phase::awaiting_head;
    attempt_started_ = steady_clock::now();
    attempt_started_at_ = to_iso8601(runtime_.services.clock.now());
    parser_ = actors::sse_parser{};
    pending_.clear();
    upstream_head_ = {};
    first_event_error_.clear();
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
    const auto& settings = *grant_.settings;
    upstream.timeouts.connect =
      std::chrono::milliseconds{settings.get_int("gateway.upstream_connect_timeout_ms")};
    upstream.timeouts.first_byte =
      std::chrono::milliseconds{settings.get_int("gateway.upstream_first_byte_timeout_ms")};
    upstream.timeouts.idle =
      std::chrono::milliseconds{settings.get_int("gateway.upstream_receive_timeout_ms")};
    // A cancelled call may still report; only the current attempt's callbacks count.
    const int attempt = ++attempt_serial_;
    auto self = shared_from_this();
    auto current = [self, attempt] {
      return attempt == self->attempt_serial_;
    };
    actors::upstream_stream_handler handler;
    handler.on_head = [self, current](actors::upstream_head head) {
      net::post(self->strand_, [self, current, h = std::move(head)]() mutable {
        if (current()) {
          self->on_head(std::move(h));
        }
      });
    };
    handler.on_chunk = [self, current](std::string chunk, std::function<void()> resume) {
      net::post(self->strand_,
                [self, current, c = std::move(chunk), r = std::move(resume)]() mutable {
                  if (current()) {
                    self->on_chunk(std::move(c), std::move(r));
                  }
                });
    };
    handler.on_done = [self, current](std::optional<actors::upstream_failure> failure) {
      net::post(self->strand_, [self, current, failure] {
        if (current()) {
          self->on_done(failure);
        }
      });
    };
    call_ = runtime_.upstream->stream(std::move(upstream), std::move(handler));
  }

  void on_head(actors::upstream_head head) {
    upstream_head_ = std::move(head);
    observed_quota_ = actors::parse_rate_limit_headers(header_map(upstream_head_.headers),
                                                       runtime_.services.clock.now());
    const auto status = upstream_head_.status;
    const bool event_stream =
      upstream_head_.header("content-type").find("text/event-stream") != std::string_view::npos;
    phase_ = status == 200 && event_stream ? phase::prelude : phase::buffering;
  }

  void on_chunk(std::string chunk, std::function<void()> resume) {
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

  void on_prelude_chunk(std::string chunk, std::function<void()> resume) {
    pending_ += chunk;
    const auto events = parser_.feed(chunk);
    for (auto event = events.begin(); event != events.end(); ++event) {
      ++prelude_events_;
      if (!looks_like_event(event->data)) {
        return malformed_before_commit();
      }
      if (inspect(*event)) {
        continue;
      }
      if (!first_event_error_.empty()) {
        // A failure before anything visible: this attempt is over, the client saw nothing.
        call_->cancel();
        phase_ = phase::finished;
        const bool quota = contains(quota_failure_codes, first_event_error_);
        return attempt_failed(quota ? attempt_result::usage_limited
                                    : attempt_result::upstream_error,
                              "first_event_" + first_event_error_, std::nullopt);
      }
      // The event that commits the stream is parsed in full: garbage must not reach the client.
      if (!is_event(event->data)) {
        return malformed_before_commit();
      }
      // The rest of this chunk goes out with it, so it is read (and checked) like relayed events.
      for (auto rest = std::next(event); rest != events.end(); ++rest) {
        if (!saw_completed_ && !looks_like_event(rest->data)) {
          return malformed_before_commit();
        }
        inspect(*rest);
      }
      return commit(std::move(resume));
    }
    if (pending_.size() > max_prelude_bytes) {
      if (prelude_events_ == 0) {
        return malformed_before_commit(); // a megabyte without a single event is not SSE
      }
      return commit(std::move(resume));
    }
    resume();
  }

  /// The upstream answered 200 with something that is not the expected event stream, before
  /// the client saw a byte: like any other upstream failure, the next account gets the request.
  void malformed_before_commit() {
    call_->cancel();
    phase_ = phase::finished;
    attempt_failed(attempt_result::upstream_error, "upstream_malformed_answer", std::nullopt,
                   relay_policy::never);
  }

  /// Learns from one event. Returns true for prelude events (nothing visible yet).
  bool inspect(const actors::sse_event& event) {
    // The `event:` line names the type, so the bulk of a stream (deltas, and the created event
    // that echoes the whole request) is never parsed; without it, a substring test decides.
    const auto& data = event.data;
    if (!event.name.empty()) {
      if (event.name == "response.created" || event.name == "response.in_progress") {
        return true;
      }
      if (!contains(parsed_events, event.name)) {
        return false;
      }
    } else if (std::none_of(parsed_events.begin(), parsed_events.end(),
                            [&](auto type) { return data.find(type) != std::string::npos; })
               && data.find("response.created") == std::string::npos
               && data.find("response.in_progress") == std::string::npos) {
      return false;
    }
    auto parsed = json::parse(data, nullptr, false);
    if (!parsed.is_object()) {
      return false;
    }
    const auto type = parsed.value("type", std::string{});
    if (type == "codex.rate_limits") {
      auto windows = actors::parse_rate_limits_event(parsed, runtime_.services.clock.now());
      observed_quota_ = actors::merge_windows(std::move(observed_quota_), windows);
    } else if (type == "response.completed") {
      saw_completed_ = true;
      const auto& response = parsed.value("response", json::object());
      log_.input_tokens = int_at(response, "/usage/input_tokens"_json_pointer);
      log_.cached_input_tokens =
        int_at(response, "/usage/input_tokens_details/cached_tokens"_json_pointer);
      log_.output_tokens = int_at(response, "/usage/output_tokens"_json_pointer);
      log_.reasoning_tokens =
        int_at(response, "/usage/output_tokens_details/reasoning_tokens"_json_pointer);
    } else if (type == "response.failed" || type == "error") {
      auto code = parsed.value(json::json_pointer{"/response/error/code"}, std::string{});
      if (code.empty()) {
        code = parsed.value(json::json_pointer{"/error/code"}, std::string{});
      }
      if (code.empty()) {
        code = parsed.value(json::json_pointer{"/error/type"}, std::string{"server_error"});
      }
      stream_error_ = code;
      if (phase_ == phase::prelude
          && (contains(retryable_failure_codes, code) || contains(quota_failure_codes, code))) {
        first_event_error_ = code;
      }
      return false;
    } else if (type == "response.incomplete") {
      stream_error_ = "response_incomplete";
    }
    return contains(prelude_events, type);
  }

  // ---- relaying --------------------------------------------------------------------------------

  void commit(std::function<void()> resume) {
    http_stream_head head{http::status::ok, request_.ex->request().version()};
    for (const auto& [name, value] : upstream_head_.headers) {
      if (is_relayed_response_header(name)) {
        head.insert(name, value);
      }
    }
    head.set(http::field::cache_control, "no-cache");
    stream_ = request_.ex->respond_stream(std::move(head));
    if (!stream_) {
      call_->cancel();
      return;
    }
    phase_ = phase::relaying;
    log_.ttfb_ms = millis(steady_clock::now() - request_.ex->started());
    runtime_.metrics.time_to_first_byte.add({{"route", log_.route}})
      .observe(std::chrono::duration<double>(steady_clock::now() - request_.ex->started()).count());
    attempt_ttfb_ms_ = millis(steady_clock::now() - attempt_started_);
    std::string first = std::move(pending_);
    pending_.clear();
    write_to_client(std::move(first), std::move(resume));
  }

  void relay(std::string chunk, std::function<void()> resume) {
    for (auto& event : parser_.feed(chunk)) {
      if (!saw_completed_ && !looks_like_event(event.data)) {
        // Nothing of this chunk is relayed; the stream ends with an error event (end_relay).
        cut_ = cut_reason::malformed;
        call_->cancel();
        return;
      }
      inspect(event);
    }
    write_to_client(std::move(chunk), std::move(resume));
  }

  void write_to_client(std::string chunk, std::function<void()> resume) {
    remember_tail(chunk);
    ++writes_in_flight_;
    stream_->write(std::move(chunk),
                   [self = shared_from_this(), resume = std::move(resume)](bool ok) {
                     net::post(self->strand_, [self, ok, resume] {
                       --self->writes_in_flight_;
                       if (!ok) {
                         self->client_gone_ = true;
                         self->call_->cancel();
                         return;
                       }
                       self->arm_keepalive();
                       resume();
                     });
                   });
  }

  /// Keeps the last bytes sent so a keep-alive comment is only ever inserted between events.
  void remember_tail(const std::string& chunk) {
    tail_ = (tail_ + chunk.substr(chunk.size() > 4 ? chunk.size() - 4 : 0));
    if (tail_.size() > 4) {
      tail_ = tail_.substr(tail_.size() - 4);
    }
  }

  bool at_event_boundary() const {
    return tail_.size() >= 2
           && (tail_.compare(tail_.size() - 2, 2, "\n\n") == 0
               || (tail_.size() >= 4 && tail_.compare(tail_.size() - 4, 4, "\r\n\r\n") == 0));
  }

  void arm_keepalive() {
    const auto interval =
      std::chrono::milliseconds{grant_.settings->get_int("gateway.sse_keepalive_interval_ms")};
    if (interval.count() <= 0 || phase_ != phase::relaying) {
      return;
    }
    keepalive_timer_.expires_after(interval);
    keepalive_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->phase_ != phase::relaying || self->writes_in_flight_ > 0
          || !self->at_event_boundary()) {
        return;
      }
      ++self->writes_in_flight_;
      self->stream_->write(": keepalive\n\n", [self](bool ok) {
        net::post(self->strand_, [self, ok] {
          --self->writes_in_flight_;
          if (ok) {
            self->arm_keepalive();
          }
        });
      });
    });
  }

  // ---- endings ---------------------------------------------------------------------------------

  void on_done(std::optional<actors::upstream_failure> failure) {
    keepalive_timer_.cancel();
    const auto current = phase_;
    phase_ = phase::finished;
    switch (current) {
    case phase::relaying:
      return end_relay(failure);
    case phase::buffering:
      if (failure) {
        return attempt_failed(attempt_result::network_error, std::string{to_string(*failure)},
                              std::nullopt, relay_policy::never);
      }
      return on_buffered_answer();
    case phase::awaiting_head:
    case phase::prelude:
      // A 200 that ended (or broke) before its first visible event carries nothing to relay.
      return attempt_failed(attempt_result::network_error,
                            failure ? std::string{to_string(*failure)}
                                    : "closed_before_first_event",
                            std::nullopt, relay_policy::never);
    default:
      return;
    }
  }

  void end_relay(std::optional<actors::upstream_failure> failure) {
    if (client_gone_) {
      stream_->abort();
      report(attempt_result::cancelled);
      return finish(499, "client_closed", "cancelled");
    }
    if (saw_completed_ && !failure) {
      stream_->finish();
      report(attempt_result::succeeded);
      return finish(200, std::nullopt, "succeeded");
    }
    // Committed: never replayed. Unless the upstream ended it with a terminal event of its own,
    // the client is told the answer is cut, so it never takes the partial answer as complete.
    std::string code = stream_error_;
    if (!saw_completed_ && stream_error_.empty()) {
      auto reason = cut_;
      if (failure == actors::upstream_failure::idle_timeout) {
        reason = cut_reason::idle;
      }
      const std::string detail = failure && reason != cut_reason::malformed
                                   ? std::string{to_string(*failure)}
                                   : std::string{};
      code = std::string{to_string(reason)};
      write_to_client(stream_cut_event(reason, detail, !at_event_boundary()), [] {});
    } else if (code.empty()) {
      code = std::string{to_string(*failure)};
    }
    stream_->finish();
    const bool upstream_fault = failure || cut_ == cut_reason::malformed;
    report(upstream_fault ? attempt_result::network_error : attempt_result::succeeded, code);
    finish(200, code, "failed");
  }

  void on_buffered_answer() {
    const auto status = upstream_head_.status;
    if (status == 200 && request_.expects_sse) {
      // A JSON (or any non-SSE) answer to a streaming request: no client could read it as one.
      return attempt_failed(attempt_result::upstream_error, "upstream_malformed_answer",
                            std::nullopt, relay_policy::never);
    }
    if (status == 200) {
      report(attempt_result::succeeded);
      respond_buffered(status);
      return finish(status, std::nullopt, "succeeded");
    }
    auto body = json::parse(pending_, nullptr, false);
    if (status == 401 && !refreshed_once_) {
      refreshed_once_ = true;
      return refresh_and_retry();
    }
    if (status == 429) {
      const bool usage_limit =
        body.is_object() && body.contains("error") && body["error"].is_object()
        && body["error"].value("type", std::string{}) == "usage_limit_reached";
      std::optional<time_point> reset;
      if (usage_limit) {
        const auto now = runtime_.services.clock.now();
        reset = actors::parse_usage_limit_reset(body, now);
        if (!reset) {
          reset = actors::exhausted_until(observed_quota_, now);
        }
        // A per-model limit blocks that model on this account, not the whole account.
        auto evidence = actors::usage_limit_of(reset, upstream_head_.header("x-codex-active-limit"),
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
      return attempt_failed(usage_limit ? attempt_result::usage_limited
                                        : attempt_result::upstream_error,
                            usage_limit ? "usage_limit_reached" : "upstream_429", reset);
    }
    if (status == 401) {
      // The account's credential, not the client's: never relayed as the client's own 401.
      return attempt_failed(attempt_result::unauthorized, "upstream_401", std::nullopt,
                            relay_policy::never);
    }
    if (status >= 500) {
      return attempt_failed(attempt_result::upstream_error, "upstream_" + std::to_string(status),
                            std::nullopt);
    }
    // Another 4xx is about the request itself: no other account would answer differently.
    report(attempt_result::rejected, "upstream_" + std::to_string(status));
    respond_buffered(status);
    finish(status, "upstream_" + std::to_string(status), "failed");
  }

  void refresh_and_retry() {
    record_attempt("retryable_failed", "upstream_401");
    ask<actors::lease_grant>(
      runtime_.system, grant_.account, refresh_timeout,
      [self = shared_from_this()](caf::expected<actors::lease_grant> refreshed) {
        net::post(self->strand_, [self, r = std::move(refreshed)]() mutable {
          if (!r) {
            // The refresh token was rejected (reauth_required) or the refresh failed: this
            // account is out; its lease was already released.
            self->runtime_.metrics.upstream_attempts.add({{"outcome", "unauthorized"}}).increment();
            self->send_report(attempt_result::unauthorized, std::nullopt);
            return self->next_or_fail("reauth_required");
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

  /// A failed attempt before anything reached the client: report it and try the next account.
  /// An answer that may be relayed replaces the one kept for when no account is left; one that
  /// may not (a credential failure, a malformed or broken 200) leaves it.
  void attempt_failed(attempt_result result, const std::string& code,
                      std::optional<time_point> exhausted_until,
                      relay_policy relayable = relay_policy::allowed) {
    if (relayable == relay_policy::allowed && upstream_head_.status != 0) {
      last_failure_ = failed_answer{
        upstream_head_.status, std::string{upstream_head_.header("content-type")}, pending_, code};
    }
    report(result, code, exhausted_until, /*retryable=*/true);
    next_or_fail(code);
  }

  void next_or_fail(const std::string& reason) {
    tried_.push_back(grant_.account_id);
    if (!request_.allow_failover || grant_.pinned
        || static_cast<int32_t>(tried_.size()) >= grant_.ring_size) {
      if (last_failure_) {
        return relay_failure();
      }
      return fail(grant_.pinned ? errc::pinned_continuation_unavailable
                                : errc::upstream_request_failed,
                  reason);
    }
    runtime_.metrics.failovers
      .add(
        {{"reason", reason.rfind("upstream_5", 0) == 0                        ? "upstream_5xx"
                    : reason.rfind("first_event_", 0) == 0                    ? "first_event"
                    : reason == "usage_limit_reached"                         ? reason
                    : reason == "upstream_429"                                ? reason
                    : reason == "upstream_malformed_answer"                   ? "malformed_answer"
                    : reason == "upstream_401" || reason == "reauth_required" ? "unauthorized"
                                                                              : "network_error"}})
      .increment();
    request_lease();
  }

  void report(attempt_result result, std::optional<std::string> code = std::nullopt,
              std::optional<time_point> exhausted_until = std::nullopt, bool retryable = false) {
    runtime_.metrics.upstream_attempts.add({{"outcome", std::string{actors::to_string(result)}}})
      .increment();
    record_attempt(result == attempt_result::succeeded   ? "succeeded"
                   : result == attempt_result::cancelled ? "cancelled"
                   : retryable                           ? "retryable_failed"
                                                         : "failed",
                   code);
    log_.account_id = grant_.account_id;
    send_report(result, exhausted_until);
  }

  /// Tells the granting pool how the attempt ended; the pool also ends the account's lease.
  void send_report(attempt_result result, std::optional<time_point> exhausted_until) {
    actors::attempt_report report;
    report.account_id = grant_.account_id;
    report.model = request_.model;
    report.route = request_.route;
    report.session_key = request_.session_key_hash;
    report.result = result;
    report.probe = grant_.probe;
    report.api_key_id = request_.api_key_id;
    report.tokens = log_.input_tokens.value_or(0) + log_.output_tokens.value_or(0);
    report.quota = std::move(observed_quota_);
    report.exhausted_until = exhausted_until;
    if (!plan_type_.empty()) {
      report.plan_type = plan_type_;
    }
    observed_quota_.clear();
    caf::anon_send(grant_.pool, std::move(report));
  }

  void record_attempt(const std::string& outcome, std::optional<std::string> code) {
    persistence::request_attempt_row attempt;
    attempt.id = new_uuid();
    attempt.attempt_number = static_cast<int32_t>(log_.attempts.size() + 1);
    attempt.account_id = grant_.account_id;
    attempt.started_at = attempt_started_at_;
    if (upstream_head_.status != 0) {
      attempt.status_code = static_cast<int32_t>(upstream_head_.status);
    }
    attempt.outcome = outcome;
    attempt.error_code = std::move(code);
    attempt.latency_ms = millis(steady_clock::now() - attempt_started_);
    if (attempt_ttfb_ms_) {
      attempt.ttfb_ms = attempt_ttfb_ms_;
    }
    log_.attempts.push_back(std::move(attempt));
  }

  // ---- answers
  // -----------------------------------------------------------------------------------

  void respond_buffered(unsigned status) {
    http_response response{static_cast<http::status>(status), request_.ex->request().version()};
    for (const auto& [name, value] : upstream_head_.headers) {
      if (is_relayed_response_header(name)) {
        response.insert(name, value);
      }
    }
    response.body() = std::move(pending_);
    request_.ex->respond(std::move(response));
  }

  void relay_failure() {
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
    response.body() = std::move(failure.body);
    request_.ex->respond(std::move(response));
    finish(failure.status, failure.code, "failed");
  }

  /// The Codex usage-limit answer (codex-protocol §6.5), so the CLI shows its usual message.
  void respond_usage_limit(const actors::lease_denial& denial) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       runtime_.services.clock.now().time_since_epoch())
                       .count();
    json error = {{"type", "usage_limit_reached"},
                  {"code", "usage_limit_reached"},
                  {"message", "The usage limit has been reached"},
                  {"plan_type", denial.plan_type.empty() ? "plus" : denial.plan_type},
                  {"eligible_promo", nullptr}};
    if (denial.resets_at) {
      error["resets_at"] = *denial.resets_at;
      error["resets_in_seconds"] = std::max<int64_t>(0, *denial.resets_at - now);
    }
    request_.ex->respond_json(http::status::too_many_requests, {{"error", error}});
    finish(429, "usage_limit_reached", "rejected");
  }

  void fail(errc code, const std::string& context) {
    if (code != errc::usage_limit_reached && code != errc::no_eligible_account
        && code != errc::server_is_overloaded) {
      log::warn("proxy", "request failed",
                {{"request_id", log_.id}, {"code", to_string(code)}, {"detail", context}});
    }
    request_.ex->respond_error(code);
    finish(static_cast<int32_t>(lookup_error(code).status), std::string{to_string(code)},
           log_.attempts.empty() ? "rejected" : "failed");
  }

  void finish(int32_t status, std::optional<std::string> error_code, const std::string& outcome) {
    phase_ = phase::finished;
    log_.status_code = status;
    log_.error_code = std::move(error_code);
    log_.outcome = outcome;
    const auto took = steady_clock::now() - request_.ex->started();
    log_.latency_ms = millis(took);
    runtime_.metrics.requests.add({{"route", log_.route}, {"status", std::to_string(status)}})
      .increment();
    runtime_.metrics.request_duration.add({{"route", log_.route}})
      .observe(std::chrono::duration<double>(took).count());
    caf::anon_send(runtime_.request_log, std::move(log_));
  }

  codex_runtime& runtime_;
  turn_request request_;
  net::strand<net::io_context::executor_type> strand_;
  admission_ticket ticket_; ///< its place in the bulkhead, held until the turn ends
  net::steady_timer keepalive_timer_;
  phase phase_ = phase::leasing;
  actors::lease_grant grant_;
  std::vector<std::string> tried_;
  std::shared_ptr<actors::upstream_call> call_;
  actors::upstream_head upstream_head_;
  actors::sse_parser parser_;
  std::string pending_;
  std::string tail_;
  std::shared_ptr<reply_stream> stream_;
  std::vector<actors::quota_window> observed_quota_;
  std::string plan_type_;
  std::string first_event_error_;
  std::string stream_error_;
  cut_reason cut_ = cut_reason::incomplete; ///< why a committed stream ended early
  int prelude_events_ = 0;                  ///< events of this attempt before the commit
  std::optional<failed_answer> last_failure_;
  bool saw_completed_ = false;
  bool refreshed_once_ = false;
  bool client_gone_ = false;
  int writes_in_flight_ = 0;
  int attempt_serial_ = 0;
  steady_clock::time_point attempt_started_;
  std::string attempt_started_at_;
  std::optional<int64_t> attempt_ttfb_ms_;
  persistence::request_log_row log_;
};

} // namespace

void bind_key(turn_request& request, const actors::admin::authenticated_key& key) {
  request.pool_id = key.key.pool_id;
  request.api_key_id = key.key.id;
  const auto& policy = key.key.policy;
  request.caps = {policy.max_requests_per_minute, policy.max_tokens_per_day,
                  policy.max_tokens_per_week};
}

void run_proxy_turn(codex_runtime& runtime, turn_request request) {
  if (request.admission == actors::admission_class::proxy_stream) {
    request.expects_sse = true;
  }
  std::make_shared<proxy_turn>(runtime, std::move(request))->start();
}

} // namespace cxp::edge
