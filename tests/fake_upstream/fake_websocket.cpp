#include "tests/fake_upstream/fake_websocket.hpp"

#include <deque>
#include <set>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace cxp::test {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using json = nlohmann::json;
using tcp = net::ip::tcp;

constexpr std::string_view beta_value = "responses_websockets=";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string input_text_of(const json& body) {
  std::string text;
  if (!body.contains("input") || !body["input"].is_array()) {
    return text;
  }
  for (const auto& item : body["input"]) {
    if (!item.is_object() || !item.contains("content") || !item["content"].is_array()) {
      continue;
    }
    for (const auto& part : item["content"]) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>() + "\n";
      }
    }
  }
  return text;
}

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket socket, ws_upgrade_request request,
             std::shared_ptr<fake_websocket_hub> hub)
      : ws_(std::move(socket)),
        request_(std::move(request)),
        hub_(std::move(hub)),
        timer_(ws_.get_executor()) {}

  void run() {
    net::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->start(); });
  }

  void close_from_hub() {
    net::post(ws_.get_executor(),
              [self = shared_from_this()] { self->do_close(websocket::close_code::going_away); });
  }

private:
  void start() {
    const auto beta = std::string{request_["openai-beta"]};
    if (beta.find(beta_value) == std::string::npos) {
      return refuse(426, R"({"error":{"message":"websocket transport requires openai-beta"}})");
    }
    auto [account, rejection] = hub_->backend().authenticate(request_);
    if (rejection) {
      return refuse(rejection->first, rejection->second);
    }
    id_ = hub_->open_connection(account);
    std::weak_ptr<ws_session> weak = weak_from_this();
    hub_->track(id_, [weak] {
      if (auto self = weak.lock()) {
        self->close_from_hub();
      }
    });
    ws_.set_option(websocket::stream_base::decorator([id = id_](websocket::response_type& res) {
      res.set("x-codex-turn-state", "ts_ws_" + std::to_string(id));
      res.set("x-models-etag", "fake-etag-1");
    }));
    ws_.read_message_max(64u << 20);
    ws_.async_accept(request_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        return self->closed();
      }
      self->do_read();
    });
  }

  void refuse(int status, std::string body) {
    auto response = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(status), request_.version());
    response->set(http::field::content_type, "application/json");
    response->keep_alive(false);
    response->body() = std::move(body);
    response->prepare_payload();
    http::async_write(ws_.next_layer(), *response,
                      [self = shared_from_this(), response](beast::error_code, size_t) {
                        beast::error_code ignored;
                        self->ws_.next_layer().socket().shutdown(tcp::socket::shutdown_both,
                                                                 ignored);
                      });
  }

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        return self->closed();
      }
      auto text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->on_frame(std::move(text));
      self->do_read();
    });
  }

  void on_frame(std::string text) {
    auto frame = json::parse(text, nullptr, false);
    const auto type = frame.is_object() ? frame.value("type", std::string{}) : std::string{};
    if (type == "response.processed") {
      hub_->update(id_, [](auto& r) { ++r.processed_acks; });
      return;
    }
    if (type != "response.create") {
      return send({{"type", "error"},
                   {"status", 400},
                   {"error",
                    {{"type", "invalid_request_error"},
                     {"code", "unsupported_frame"},
                     {"message", "unsupported frame type"}}}});
    }
    if (busy_) {
      hub_->update(id_, [](auto& r) { ++r.overlapping_creates; });
      queued_.push_back(std::move(frame));
      return;
    }
    start_turn(std::move(frame));
  }

  void start_turn(json frame) {
    busy_ = true;
    const auto previous = frame.value("previous_response_id", std::string{});
    const bool generate = frame.value("generate", true);
    hub_->update(id_, [&](auto& r) {
      r.turns.push_back({{"previous_response_id", previous},
                         {"generate", generate},
                         {"input_text", input_text_of(frame)}});
    });
    if (!previous.empty() && !known_ids_.count(previous)) {
      send({{"type", "error"},
            {"status", 400},
            {"error",
             {{"type", "invalid_request_error"},
              {"code", "previous_response_not_found"},
              {"message", "Previous response with id '" + previous + "' not found."},
              {"param", "previous_response_id"}}}});
      return end_turn();
    }
    if (!generate) {
      const auto response_id = "resp_prewarm_" + std::to_string(id_) + "_" + std::to_string(++seq_);
      known_ids_.insert(response_id);
      record_response_id(response_id);
      json response{{"id", response_id},
                    {"object", "response"},
                    {"created_at", unix_now()},
                    {"status", "in_progress"},
                    {"model", frame.value("model", std::string{})},
                    {"output", json::array()}};
      send({{"type", "response.created"}, {"response", response}});
      response["status"] = "completed";
      response["usage"] = {{"input_tokens", 0}, {"output_tokens", 0}, {"total_tokens", 0}};
      send({{"type", "response.completed"}, {"response", response}});
      return end_turn();
    }
    frame.erase("type");
    frame.erase("previous_response_id");
    frame.erase("generate");
    reply_ = hub_->backend().turn(request_, frame);
    if (reply_.delay_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds{reply_.delay_ms});
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->answer(); });
      return;
    }
    answer();
  }

  void answer() {
    if (reply_.drop) {
      return do_close(websocket::close_code::internal_error);
    }
    if (reply_.status != 200) {
      auto body = json::parse(reply_.body, nullptr, false);
      json error = body.is_object() && body.contains("error") ? body["error"] : json::object();
      json headers = json::object();
      for (const auto& [name, value] : reply_.headers) {
        if (name.rfind("x-codex-", 0) == 0) {
          headers[name] = value;
        }
      }
      send({{"type", "error"}, {"status", reply_.status}, {"error", error}, {"headers", headers}});
      return end_turn();
    }
    send_events(0);
  }

  /// Sends the reply's events from `next` on, `event_interval_ms` apart, then ends the turn.
  void send_events(size_t next) {
    for (; next < reply_.events.size(); ++next) {
      if (closing_ || gone_) {
        return;
      }
      if (reply_.close_after_events >= 0
          && next >= static_cast<size_t>(reply_.close_after_events)) {
        return do_close(websocket::close_code::internal_error);
      }
      const auto& event = reply_.events[next];
      auto parsed = json::parse(event, nullptr, false);
      if (parsed.is_object() && parsed.value("type", std::string{}) == "response.created") {
        const auto id = parsed.value(json::json_pointer{"/response/id"}, std::string{});
        known_ids_.insert(id);
        record_response_id(id);
      }
      send_text(event);
      if (reply_.event_interval_ms > 0 && next + 1 < reply_.events.size()) {
        timer_.expires_after(std::chrono::milliseconds{reply_.event_interval_ms});
        timer_.async_wait(
          [self = shared_from_this(), next](beast::error_code) { self->send_events(next + 1); });
        return;
      }
    }
    end_turn();
  }

  void record_response_id(const std::string& id) {
    hub_->update(id_, [&](auto& r) {
      if (!r.turns.empty()) {
        r.turns.back()["response_id"] = id;
      }
    });
  }

  /// A turn is over once its last frame is queued; the next queued create starts then.
  void end_turn() {
    busy_ = false;
    if (!queued_.empty()) {
      auto next = std::move(queued_.front());
      queued_.pop_front();
      start_turn(std::move(next));
    }
  }

  void send(const json& frame) { send_text(frame.dump()); }

  void send_text(std::string text) {
    if (closing_) {
      return;
    }
    outbox_.push_back(std::move(text));
    do_write();
  }

  void do_write() {
    if (writing_ || outbox_.empty()) {
      return;
    }
    if (closing_) {
      return finish_close();
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(outbox_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      self->outbox_.pop_front();
                      if (ec) {
                        return self->closed();
                      }
                      if (self->closing_) {
                        return self->finish_close();
                      }
                      self->do_write();
                    });
  }

  /// A close frame may only start once no write is in progress (Beast allows one at a time).
  void finish_close() {
    if (close_started_) {
      return;
    }
    close_started_ = true;
    ws_.async_close(close_code_, [self = shared_from_this()](beast::error_code) {});
  }

  void do_close(websocket::close_code code) {
    if (closing_) {
      return;
    }
    closing_ = true;
    hub_->update(id_, [](auto& r) { r.open = false; });
    // Tear the TCP connection down: a "dropped" upstream is what the scripts simulate.
    beast::error_code ignored;
    if (code == websocket::close_code::internal_error) {
      ws_.next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
      ws_.next_layer().socket().close(ignored);
      return;
    }
    close_code_ = code;
    if (!writing_) {
      finish_close();
    }
  }

  void closed() {
    gone_ = true;
    if (id_ != 0) {
      hub_->update(id_, [](auto& r) { r.open = false; });
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  ws_upgrade_request request_;
  std::shared_ptr<fake_websocket_hub> hub_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  std::deque<json> queued_;
  std::set<std::string> known_ids_;
  ws_turn_reply reply_;
  int64_t id_ = 0;
  int64_t seq_ = 0;
  bool busy_ = false;
  bool closing_ = false;
  bool writing_ = false;
  bool close_started_ = false;
  bool gone_ = false; ///< the peer went away (a read or write failed)
  websocket::close_code close_code_ = websocket::close_code::normal;
};

} // namespace

json to_json(const ws_connection_record& record) {
  return {{"id", record.id},
          {"account_id", record.account_id},
          {"open", record.open},
          {"overlapping_creates", record.overlapping_creates},
          {"processed_acks", record.processed_acks},
          {"turns", record.turns}};
}

void fake_websocket_hub::accept(tcp::socket socket, ws_upgrade_request request) {
  std::make_shared<ws_session>(std::move(socket), std::move(request), shared_from_this())->run();
}

std::vector<ws_connection_record> fake_websocket_hub::connections() const {
  std::lock_guard lock{mutex_};
  return records_;
}

void fake_websocket_hub::close_all() {
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard lock{mutex_};
    for (auto& [id, closer] : closers_) {
      closers.push_back(closer);
    }
  }
  for (auto& closer : closers) {
    closer();
  }
}

int64_t fake_websocket_hub::open_connection(const std::string& account_id) {
  std::lock_guard lock{mutex_};
  ws_connection_record record;
  record.id = static_cast<int64_t>(records_.size()) + 1;
  record.account_id = account_id;
  records_.push_back(std::move(record));
  return records_.back().id;
}

void fake_websocket_hub::update(int64_t id,
                                const std::function<void(ws_connection_record&)>& change) {
  std::lock_guard lock{mutex_};
  if (id >= 1 && id <= static_cast<int64_t>(records_.size())) {
    change(records_[static_cast<size_t>(id - 1)]);
  }
}

void fake_websocket_hub::track(int64_t id, std::function<void()> closer) {
  std::lock_guard lock{mutex_};
  closers_.emplace_back(id, std::move(closer));
}

} // namespace cxp::test
