#include <algorithm>
#include <array>

#include <boost/asio/post.hpp>

#include "common/json_input.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/codex/proxy_turn_state.hpp"

namespace cxp::edge::detail {

namespace {

using nlohmann::json;

constexpr size_t max_prelude_bytes = 1u << 20;

/// Events whose JSON the proxy reads (usage, quota, failure codes); others pass unparsed.
constexpr std::array<std::string_view, 5> parsed_events = {
  "codex.rate_limits", "response.completed", "response.failed", "response.incomplete", "error"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::optional<int64_t> int_at(const json& object, const json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object.at(pointer).is_number_integer()) {
    return std::nullopt;
  }
  return object.at(pointer).get<int64_t>();
}

} // namespace

void proxy_turn::on_prelude_chunk(std::string chunk, std::function<void()> resume) {
  // The prelude's bytes are kept for the commit; they are framed where they are kept.
  const size_t start = pending_.size();
  if (pending_.empty()) {
    pending_ = std::move(chunk);
  } else {
    pending_ += chunk;
  }
  enum class prelude { open, committed, malformed, over } found = prelude::open;
  domain::turn_signal ending;
  parser_.feed(std::string_view{pending_}.substr(start), [&](const actors::sse_event_view& event) {
    if (found == prelude::committed) {
      // The rest of this read goes out with the committing event: read (and checked) like
      // relayed events.
      if (!saw_completed_ && !looks_like_event(event.data)) {
        found = prelude::malformed;
        return false;
      }
      inspect_relayed(event);
      return true;
    }
    ++prelude_events_;
    if (!looks_like_event(event.data)) {
      found = prelude::malformed;
      return false;
    }
    auto signal = inspect(event);
    switch (domain::judge(signal, attempt_state())) {
    case domain::turn_verdict::hold:
      return true;
    case domain::turn_verdict::refresh_token:
    case domain::turn_verdict::reconnect:
    case domain::turn_verdict::fail_over:
      // This attempt is over before anything visible: the client saw nothing.
      ending = std::move(signal);
      found = prelude::over;
      return false;
    default:
      break; // relayed as it came, the upstream's own failure events included
    }
    // The event that commits the stream is parsed in full: garbage must not reach the client.
    found = is_event(event.data) ? prelude::committed : prelude::malformed;
    return found == prelude::committed;
  });
  switch (found) {
  case prelude::committed:
    return commit(std::move(resume));
  case prelude::malformed:
    return malformed_before_commit();
  case prelude::over:
    call_->cancel();
    phase_ = phase::finished;
    return settle(ending);
  case prelude::open:
    break;
  }
  if (pending_.size() > max_prelude_bytes) {
    if (prelude_events_ == 0) {
      return malformed_before_commit(); // a megabyte without a single event is not SSE
    }
    return commit(std::move(resume));
  }
  resume();
}

void proxy_turn::malformed_before_commit() {
  call_->cancel();
  phase_ = phase::finished;
  domain::turn_signal malformed;
  malformed.kind = domain::signal_kind::malformed;
  settle(malformed);
}

bool proxy_turn::worth_parsing(const actors::sse_event_view& event) {
  if (!event.name.empty()) {
    return contains(parsed_events, event.name);
  }
  const auto data = event.data;
  return std::any_of(parsed_events.begin(), parsed_events.end(),
                     [&](auto type) { return data.find(type) != std::string_view::npos; })
         || data.find("response.created") != std::string_view::npos
         || data.find("response.in_progress") != std::string_view::npos;
}

void proxy_turn::inspect_relayed(const actors::sse_event_view& event) {
  if (worth_parsing(event)) {
    inspect(event);
  }
}

domain::turn_signal proxy_turn::inspect(const actors::sse_event_view& event) {
  // The `event:` line names the type, so the bulk of a stream (deltas, and the created event
  // that echoes the whole request) is never parsed; without it, a substring test decides.
  domain::turn_signal unparsed;
  unparsed.type = event.name;
  if (!worth_parsing(event)) {
    return unparsed;
  }
  const auto data = event.data;
  json parsed;
  if (parse_untrusted(data, parsed) || !parsed.is_object()) {
    return unparsed;
  }
  auto signal = domain::read_upstream_frame(parsed);
  if (signal.type == "codex.rate_limits") {
    auto windows = domain::parse_rate_limits_event(parsed, runtime_.services.clock.now());
    observed_quota_ = domain::merge_windows(std::move(observed_quota_), windows);
  } else if (signal.type == "response.completed") {
    saw_completed_ = true;
    const auto& response = parsed.value("response", json::object());
    log_.input_tokens = int_at(response, "/usage/input_tokens"_json_pointer);
    log_.cached_input_tokens =
      int_at(response, "/usage/input_tokens_details/cached_tokens"_json_pointer);
    log_.output_tokens = int_at(response, "/usage/output_tokens"_json_pointer);
    log_.reasoning_tokens =
      int_at(response, "/usage/output_tokens_details/reasoning_tokens"_json_pointer);
  } else if (signal.type == "response.failed" || signal.type == "error") {
    stream_error_ = signal.code.empty() ? std::string{"server_error"} : signal.code;
    terminal_ = signal;
  } else if (signal.type == "response.incomplete") {
    stream_error_ = "response_incomplete";
    terminal_ = signal;
  }
  return signal;
}

void proxy_turn::commit(std::function<void()> resume) {
  http_stream_head head{http::status::ok, request_.ex->request().version()};
  for (const auto& [name, value] : upstream_head_.headers) {
    if (is_relayed_response_header(name)) {
      head.insert(name, value);
    }
  }
  head.set(http::field::cache_control, "no-cache");
  if (request_.pooled_quota) {
    const auto quota = pooled_quota_now(grant_.quota);
    set_quota_headers(head, quota);
    rewriter_.set_pooled(rate_limits_sse(quota));
  }
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
  std::string first = request_.pooled_quota ? rewriter_.feed(pending_) : std::move(pending_);
  pending_.clear();
  if (first.empty()) {
    return resume(); // the prelude's last event has not ended: it goes out with the next read
  }
  relay_out(std::move(first), std::move(resume));
}

void proxy_turn::relay(std::string chunk, std::function<void()> resume) {
  const bool sound = parser_.feed(chunk, [this](const actors::sse_event_view& event) {
    if (!saw_completed_ && !looks_like_event(event.data)) {
      return false;
    }
    inspect_relayed(event);
    return true;
  });
  if (!sound) {
    // Nothing of this chunk is relayed; the stream ends with an error event (end_relay).
    cut_ = cut_reason::malformed;
    call_->cancel();
    return;
  }
  if (request_.pooled_quota) {
    chunk = rewriter_.feed(chunk);
    if (chunk.empty()) {
      return resume(); // nothing but a held part of an event
    }
  }
  relay_out(std::move(chunk), std::move(resume));
}

void proxy_turn::relay_out(std::string bytes, std::function<void()> resume) {
  if (!body_complete_) {
    return write_to_client(std::move(bytes), std::move(resume));
  }
  // The upstream's body ended with this read: the reply ends now, its last bytes and its end in
  // one write (a head not yet sent goes with them). The call, resumed, sees its end and parks
  // its connection; its `on_done` then finds the turn finished.
  keepalive_timer_.cancel();
  phase_ = phase::finished;
  end_relay(std::nullopt, std::move(bytes));
  resume();
}

void proxy_turn::write_to_client(std::string chunk, std::function<void()> resume) {
  remember_tail(chunk);
  ++writes_in_flight_;
  stream_->write(std::move(chunk),
                 [self = shared_from_this(), resume = std::move(resume)](bool ok) {
                   net::post(self->home_, [self, ok, resume] {
                     --self->writes_in_flight_;
                     if (!ok) {
                       self->client_gone_ = true;
                       self->call_->cancel();
                       return;
                     }
                     self->last_write_ = steady_clock::now();
                     self->arm_keepalive();
                     resume();
                   });
                 });
}

void proxy_turn::remember_tail(const std::string& chunk) {
  tail_.append(chunk, chunk.size() > 4 ? chunk.size() - 4 : 0);
  if (tail_.size() > 4) {
    tail_.erase(0, tail_.size() - 4);
  }
}

bool proxy_turn::at_event_boundary() const {
  return tail_.size() >= 2
         && (tail_.compare(tail_.size() - 2, 2, "\n\n") == 0
             || (tail_.size() >= 4 && tail_.compare(tail_.size() - 4, 4, "\r\n\r\n") == 0));
}

void proxy_turn::arm_keepalive() {
  const auto interval = grant_.settings->gateway().sse_keepalive_interval;
  if (interval.count() <= 0 || phase_ != phase::relaying || keepalive_armed_) {
    return;
  }
  // One wait per quiet interval, not one per write: a write moves `last_write_` and the wait,
  // when it ends, sleeps again for what is left.
  keepalive_armed_ = true;
  keepalive_timer_.expires_at(last_write_ + interval);
  keepalive_timer_.async_wait([self = shared_from_this(), interval](boost::system::error_code ec) {
    self->keepalive_armed_ = false;
    if (ec || self->phase_ != phase::relaying || self->writes_in_flight_ > 0) {
      return; // a write in flight re-arms when it completes
    }
    if (steady_clock::now() < self->last_write_ + interval) {
      return self->arm_keepalive();
    }
    if (!self->at_event_boundary()) {
      return; // never inside an event; the next write re-arms
    }
    ++self->writes_in_flight_;
    self->stream_->write(": keepalive\n\n", [self](bool ok) {
      net::post(self->home_, [self, ok] {
        --self->writes_in_flight_;
        if (ok) {
          self->last_write_ = steady_clock::now();
          self->arm_keepalive();
        }
      });
    });
  });
}

} // namespace cxp::edge::detail
