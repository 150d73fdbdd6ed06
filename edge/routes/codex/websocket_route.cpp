#include "edge/routes/codex/websocket_route.hpp"

#include <atomic>
#include <deque>
#include <random>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/notices/node_notices.hpp"
#include "actors/request_log/request_log_writer.hpp"
#include "actors/stream/stream_messages.hpp"
#include "common/encoding.hpp"
#include "common/json_input.hpp"
#include "common/log.hpp"
#include "domain/request_logs/client_agent.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/routes/codex/codex_auth.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/server/actor_bridge.hpp"
#include "edge/server/websocket_session.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::edge {

namespace {

namespace net = boost::asio;
using domain::authenticated_key;
using nlohmann::json;

constexpr auto settings_timeout = std::chrono::seconds{5};
constexpr auto open_timeout = std::chrono::seconds{10};

/// Connection ids fence a session's turns (a stream relays a turn's frames only to the
/// connection that sent it), and connections of every node may attach to one stream: a random
/// start keeps two nodes' ids apart.
uint64_t first_connection_id() {
  std::random_device seed;
  return (static_cast<uint64_t>(seed()) << 32 | seed()) & ~(uint64_t{1} << 63);
}

std::atomic<uint64_t> connection_serial{first_connection_id()};

std::string header_of(const http_request& request, std::string_view name) {
  auto it = request.find(boost::beast::string_view{name.data(), name.size()});
  return it == request.end() ? std::string{} : std::string{it->value()};
}

/// The client as the request log stores it (never the raw User-Agent).
std::string client_of(const http_request& request) {
  return domain::client_label(domain::parse_client_agent(header_of(request, "user-agent")));
}

bool is_key_gone(errc code) {
  return code == errc::api_key_inactive || code == errc::api_key_invalid
         || code == errc::api_key_missing;
}

/// What the upgrade request fixed for the whole connection.
struct upgrade_context {
  http_request request; ///< the upgrade request (headers only)
  secret<std::string> raw_key;
  authenticated_key key;
  std::string route;
  std::string client_ip;
  std::string turn_state;
  std::vector<std::string> aliases;
  actors::header_list client_headers;
};

/// One client websocket: its frames, its turn queue and its link to the session's stream
/// actor. Runs on the connection's strand; CAF replies are posted to it.
class client_session : public std::enable_shared_from_this<client_session> {
public:
  client_session(websocket_runtime& runtime, upgrade_context context)
      : runtime_(runtime),
        context_(std::move(context)),
        connection_id_(++connection_serial) {}

  void on_open(std::shared_ptr<websocket_connection> connection) {
    connection_ = std::move(connection);
    timer_.emplace(connection_->executor());
    spawn_endpoint();
    arm_key_check();
  }

  void on_message(std::string text) {
    json frame;
    if (auto problem = parse_untrusted(text, frame)) {
      return send_error(errc::invalid_request, problem->message);
    }
    const auto type = frame.is_object() && frame.contains("type") && frame["type"].is_string()
                        ? frame["type"].get<std::string>()
                        : std::string{};
    if (type == "response.create") {
      const auto checked = check_fields(frame, native_body_fields);
      if (checked.problem) {
        return send_error(errc::invalid_request, checked.problem->message,
                          checked.problem->field.empty()
                            ? std::nullopt
                            : std::optional<std::string>{checked.problem->field});
      }
      if (checked.erased_nulls) {
        text = frame.dump();
      }
      queue_.emplace_back(std::move(text), std::move(frame));
      return pump();
    }
    if (type == "response.processed") {
      if (stream_) {
        caf::anon_send(stream_, actors::stream_forward{connection_id_, std::move(text)});
      }
      return;
    }
    send_error(errc::invalid_request,
               type.empty() ? "frames must be JSON objects with a type"
                            : "unsupported frame type; expected response.create",
               "type");
  }

  void on_closed() {
    closed_ = true;
    if (timer_) {
      timer_->cancel();
    }
    if (stream_) {
      caf::anon_send(stream_, actors::stream_detach{connection_id_});
    }
    ticket_.reset();
    if (endpoint_) {
      // Not `normal`: an exit with reason normal is ignored by the default exit handler.
      caf::anon_send_exit(endpoint_, caf::exit_reason::user_shutdown);
    }
    queue_.clear();
  }

private:
  /// The connection's actor: the stream's frames and turn ends arrive here (from this node or
  /// another) and continue on the strand.
  void spawn_endpoint() {
    std::weak_ptr<client_session> weak = weak_from_this();
    auto post = [weak](auto fn) {
      if (auto self = weak.lock()) {
        net::post(self->connection_->executor(),
                  [self, fn = std::move(fn)]() mutable { fn(self); });
      }
    };
    // Hidden: it lives exactly as long as its socket, which shutdown may drop without a close,
    // so the actor system must not wait for it.
    endpoint_ = runtime_.codex.system.spawn<caf::hidden>(
      [post, key_id = context_.key.key.id](
        websocket_endpoint_actor::pointer endpoint) -> websocket_endpoint_actor::behavior_type {
        actors::subscribe_to<actors::api_key_changed>(endpoint);
        return {
          [post, key_id](const actors::api_key_changed& changed) {
            if (changed.api_key_id == key_id) {
              post([](const std::shared_ptr<client_session>& self) {
                self->check_key(key_source::database);
              });
            }
          },
          [post](actors::stream_frame& frame) {
            post([f = std::move(frame)](const std::shared_ptr<client_session>& self) mutable {
              self->on_stream_frame(std::move(f));
            });
          },
          [post](actors::stream_turn_done& done) {
            post([d = std::move(done)](const std::shared_ptr<client_session>& self) mutable {
              self->on_turn_done(std::move(d));
            });
          },
          [post](actors::stream_closed& closed) {
            post([c = std::move(closed)](const std::shared_ptr<client_session>& self) {
              self->on_stream_closed(c);
            });
          },
        };
      });
  }

  void on_stream_frame(actors::stream_frame frame) {
    if (closed_) {
      return;
    }
    if (!current_turn_ || frame.turn_id != *current_turn_) {
      // Not the running turn's (the stream fences turns by connection; this is the second
      // line): never written, but acknowledged so the stream's window keeps moving.
      if (stream_) {
        caf::anon_send(stream_, actors::stream_ack{frame.seq});
      }
      return;
    }
    connection_->send(std::move(frame.text), [stream = stream_, seq = frame.seq](bool ok) {
      if (ok && stream) {
        caf::anon_send(stream, actors::stream_ack{seq});
      }
    });
  }

  void on_turn_done(actors::stream_turn_done done) {
    if (!current_turn_ || done.turn_id != *current_turn_) {
      return;
    }
    if (done.error) {
      send_error(to_errc(done.error),
                 done.message.empty() ? std::nullopt : std::optional{done.message});
    }
    current_turn_.reset();
    pump();
  }

  void on_stream_closed(const actors::stream_closed& closed) {
    if (closed.reason == "replaced") {
      // Another connection continued this session; this one would never see its frames.
      connection_->close(ws_close_normal, "session continued on another connection");
    }
  }

  void send_error(errc code, std::optional<std::string> message = std::nullopt,
                  std::optional<std::string> param = std::nullopt) {
    if (closed_) {
      return;
    }
    connection_->send(render_websocket_error(code, std::move(message), std::move(param)).dump(),
                      nullptr);
  }

  /// Starts the next queued turn when none is running: key check, admission, then the turn.
  void pump() {
    if (closed_ || current_turn_ || starting_) {
      return;
    }
    ticket_.reset();
    if (queue_.empty()) {
      return;
    }
    starting_ = true;
    auto self = shared_from_this();
    authenticate(runtime_.codex, context_.raw_key, key_source::cache_first,
                 [self](caf::expected<authenticated_key> key) {
                   net::post(self->connection_->executor(), [self, k = std::move(key)]() mutable {
                     if (self->closed_) {
                       return;
                     }
                     if (!k) {
                       self->starting_ = false;
                       if (is_key_gone(to_errc(k.error()))) {
                         return self->revoked();
                       }
                       self->queue_.pop_front();
                       self->send_error(to_errc(k.error()));
                       return self->pump();
                     }
                     self->context_.key = std::move(*k);
                     self->admit();
                   });
                 });
  }

  /// Takes the turn's place in the proxy_websocket bulkhead; answered on the connection's
  /// executor (at once, or later from the bulkhead's queue).
  void admit() {
    runtime_.codex.admission->admit(
      domain::admission_class::proxy_websocket, connection_->executor(),
      [self = shared_from_this()](caf::expected<admission_ticket> ticket) {
        self->starting_ = false;
        if (self->closed_) {
          return;
        }
        if (!ticket) {
          auto [text, body] = std::move(self->queue_.front());
          self->queue_.pop_front();
          self->reject(body, to_errc(ticket.error()));
          return self->pump();
        }
        self->ticket_ = std::move(*ticket);
        self->start_turn();
      });
  }

  void start_turn() {
    auto [text, body] = std::move(queue_.front());
    queue_.pop_front();
    const auto& policy = context_.key.key.policy;
    const bool has_model = body.contains("model") && body["model"].is_string()
                           && !body["model"].get<std::string>().empty();
    if (!has_model && !policy.enforced_model) {
      reject(body, errc::invalid_request, "model is required", "model");
      return pump();
    }
    auto changed = apply_key_policy(body, policy);
    if (!changed) {
      reject(body, to_errc(changed.error()));
      return pump();
    }
    actors::stream_turn turn;
    turn.connection_id = connection_id_;
    turn.turn_id = ++turn_serial_;
    turn.frame = *changed ? body.dump() : std::move(text);
    turn.request_id = new_time_ordered_uuid(runtime_.codex.services.clock.now());
    turn.pool_id = context_.key.key.pool_id;
    turn.api_key_id = context_.key.key.id;
    turn.route = context_.route;
    turn.client_ip = context_.client_ip;
    turn.client = client_of(context_.request);
    turn.model = body["model"].get<std::string>();
    turn.service_tier = service_tier_of(body).value_or("");
    const auto session_key = session_key_of(context_.request, body);
    turn.session_key = hash_session_key(session_key, context_.key);
    turn.seed = body.contains("prompt_cache_key") && body["prompt_cache_key"].is_string()
                  ? body["prompt_cache_key"].get<std::string>()
                  : (session_key.empty() ? context_.turn_state : session_key);
    turn.alias_salt = context_.key.key.pool_id + ":" + context_.key.key.id;
    turn.max_requests_per_minute = policy.max_requests_per_minute.value_or(-1);
    turn.max_tokens_per_day = policy.max_tokens_per_day.value_or(-1);
    turn.max_tokens_per_week = policy.max_tokens_per_week.value_or(-1);
    current_turn_ = turn.turn_id;
    if (stream_) {
      caf::anon_send(stream_, std::move(turn));
      return;
    }
    // The first turn finds the session's stream (a reconnect may name it only by its
    // previous_response_id), attaches, then sends.
    auto aliases = context_.aliases;
    if (body.contains("previous_response_id") && body["previous_response_id"].is_string()) {
      aliases.push_back(persistence::sha256_hex(turn.alias_salt + ":previous_response_id:"
                                                + body["previous_response_id"].get<std::string>()));
    }
    auto self = shared_from_this();
    ask<actors::stream_opened>(
      runtime_.codex.system, runtime_.registry, open_timeout,
      [self, t = std::move(turn)](caf::expected<actors::stream_opened> opened) mutable {
        net::post(self->connection_->executor(),
                  [self, t = std::move(t), o = std::move(opened)]() mutable {
                    self->on_stream(std::move(o), std::move(t));
                  });
      },
      actors::stream_open{std::move(aliases), {}});
  }

  void on_stream(caf::expected<actors::stream_opened> opened, actors::stream_turn turn) {
    if (closed_) {
      return;
    }
    if (!opened) {
      log::warn("websocket", "stream registry failed", {{"detail", context_of(opened.error())}});
      current_turn_.reset();
      send_error(errc::service_unavailable);
      return pump();
    }
    stream_ = opened->stream;
    caf::anon_send(stream_,
                   actors::stream_attach{endpoint_, connection_id_, context_.client_headers});
    caf::anon_send(stream_, std::move(turn));
  }

  /// A turn refused before routing still leaves its request-log row.
  void reject(const json& body, errc code, std::optional<std::string> message = std::nullopt,
              std::optional<std::string> param = std::nullopt) {
    persistence::request_log_row row;
    const auto now = runtime_.codex.services.clock.now();
    row.id = new_time_ordered_uuid(now);
    row.occurred_at = to_iso8601(now);
    row.pool_id = context_.key.key.pool_id;
    row.api_key_id = context_.key.key.id;
    row.route = context_.route;
    row.transport = "websocket";
    if (body.contains("model") && body["model"].is_string()) {
      row.model = body["model"].get<std::string>();
    }
    row.status_code = static_cast<int32_t>(lookup_error(code).status);
    row.outcome = "rejected";
    row.error_code = std::string{to_string(code)};
    row.latency_ms = 0;
    row.client_ip = context_.client_ip;
    row.client = client_of(context_.request);
    caf::anon_send(runtime_.codex.request_log, std::move(row));
    send_error(code, std::move(message), std::move(param));
  }

  void arm_key_check() {
    timer_->expires_after(runtime_.key_recheck_interval);
    timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) {
        return;
      }
      self->check_key(key_source::cache_first);
      self->arm_key_check();
    });
  }

  /// Closes the connection with 1008 when its key no longer authenticates.
  void check_key(key_source source) {
    if (closed_) {
      return;
    }
    auto self = shared_from_this();
    authenticate(runtime_.codex, context_.raw_key, source,
                 [self](caf::expected<authenticated_key> key) {
                   net::post(self->connection_->executor(), [self, k = std::move(key)] {
                     if (!self->closed_ && !k && is_key_gone(to_errc(k.error()))) {
                       self->revoked();
                     }
                   });
                 });
  }

  void revoked() {
    queue_.clear();
    connection_->close(ws_close_policy_violation, "api key is no longer active");
  }

  websocket_runtime& runtime_;
  upgrade_context context_;
  uint64_t connection_id_;
  std::shared_ptr<websocket_connection> connection_;
  std::optional<net::steady_timer> timer_;
  websocket_endpoint_actor endpoint_;
  actors::stream_actor stream_;
  std::deque<std::pair<std::string, json>> queue_;
  std::optional<uint64_t> current_turn_;
  admission_ticket ticket_; ///< the running turn's place in the proxy_websocket bulkhead
  uint64_t turn_serial_ = 0;
  bool starting_ = false;
  bool closed_ = false;
};

/// Hashed aliases of the session the upgrade names: its turn state, window id and session
/// header, each salted with the pool and key.
std::vector<std::string> aliases_of(const http_request& request, const std::string& turn_state,
                                    const authenticated_key& key) {
  const auto salt = key.key.pool_id + ":" + key.key.id;
  std::vector<std::string> aliases;
  aliases.push_back(persistence::sha256_hex(salt + ":turn_state:" + turn_state));
  if (auto window = header_of(request, "x-codex-window-id"); !window.empty()) {
    aliases.push_back(persistence::sha256_hex(salt + ":window_id:" + window));
  }
  for (const auto* name : {"session-id", "session_id", "x-session-id"}) {
    if (auto value = header_of(request, name); !value.empty()) {
      aliases.push_back(persistence::sha256_hex(salt + ":session:" + value));
      break;
    }
  }
  return aliases;
}

void upgrade(websocket_runtime& runtime, const exchange_ptr& ex, authenticated_key key,
             actors::settings_snapshot settings) {
  upgrade_context context;
  context.request = ex->request();
  context.request.body().clear();
  context.raw_key = secret<std::string>{bearer_of(ex->request())};
  context.key = std::move(key);
  context.route = ex->route_name();
  context.client_ip = ex->client_ip();
  context.turn_state = header_of(ex->request(), "x-codex-turn-state");
  if (context.turn_state.empty()) {
    context.turn_state = new_uuid();
  }
  context.aliases = aliases_of(ex->request(), context.turn_state, context.key);
  for (auto& [name, value] : upstream_headers_for(ex->request(), {}, {}, true)) {
    if (name != "authorization" && name != "content-type" && name != "accept") {
      context.client_headers.emplace_back(name, value);
    }
  }
  websocket_upgrade options;
  options.response_headers.emplace_back("x-codex-turn-state", context.turn_state);
  options.max_message_bytes = settings->ingress().max_body_bytes;
  options.idle_timeout = settings->gateway().websocket_idle_timeout;
  runtime.codex.admission->configure(settings);
  auto session = std::make_shared<client_session>(runtime, std::move(context));
  options.on_open = [session](std::shared_ptr<websocket_connection> connection) {
    session->on_open(std::move(connection));
  };
  options.on_message = [session](std::string text) {
    session->on_message(std::move(text));
  };
  options.on_closed = [session](uint16_t, std::string) {
    session->on_closed();
  };
  if (!ex->accept_websocket(std::move(options))) {
    ex->respond_error(errc::invalid_request, "websocket upgrade failed");
  }
}

void accept(websocket_runtime& runtime, const exchange_ptr& ex) {
  if (!is_websocket_upgrade(ex->request())) {
    return ex->respond_error(errc::invalid_request,
                             "GET on this route is a websocket upgrade; POST for HTTP streaming");
  }
  with_key(runtime.codex, ex, [&runtime, ex](authenticated_key key) {
    ask<actors::settings_snapshot>(
      runtime.codex.system, runtime.settings, settings_timeout,
      [&runtime, ex, key](caf::expected<actors::settings_snapshot> settings) {
        if (!settings) {
          return ex->respond_error(errc::service_unavailable);
        }
        upgrade(runtime, ex, key, std::move(*settings));
      },
      actors::get_atom::value);
  });
}

} // namespace

void add_websocket_routes(route_table& routes, websocket_runtime& runtime) {
  // `/v1/responses` too: the Codex CLI with a `/v1` base URL tries the websocket there first,
  // and a 405 costs it seconds of retries before it falls back to HTTP.
  for (const auto* path :
       {"/backend-api/codex/responses", "/backend-api/codex/v1/responses", "/v1/responses"}) {
    routes.add(http::verb::get, path, [&runtime](const exchange_ptr& ex) { accept(runtime, ex); });
  }
}

} // namespace cxp::edge
