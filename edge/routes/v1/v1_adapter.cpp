#include "edge/routes/v1/v1_adapter.hpp"

#include <boost/beast/http/field.hpp>

#include "actors/upstream/sse_parser.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/routes/v1/responses_events.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

constexpr size_t max_relayed_message_bytes = 500;
constexpr std::string_view keepalive_comment = ": keepalive\n\n";

http_request adapted_request(const exchange_ptr& client, std::string body,
                             const std::string& content_type) {
  http_request request = client->request();
  request.body() = std::move(body);
  request.set(http::field::content_type, content_type);
  request.prepare_payload();
  return request;
}

/// The adapted exchange runs where the client's does, so the proxied turn shares its thread.
void share_home(const exchange& client, exchange& adapted) {
  if (client.home() != nullptr) {
    adapted.set_home(*client.home());
  }
}

struct translation_state {
  exchange_ptr client;
  std::shared_ptr<stream_translator> translator;
  bool client_streams = false;
  actors::sse_parser parser;
  std::shared_ptr<reply_stream> client_stream;
};

/// What the proxy writes (upstream SSE bytes) is parsed, translated and written to the client.
class translating_stream : public reply_stream {
public:
  explicit translating_stream(std::shared_ptr<translation_state> state)
      : state_(std::move(state)) {}

  void write(std::string chunk, std::function<void(bool ok)> written) override {
    std::string out;
    for (auto& event : state_->parser.feed(chunk)) {
      auto parsed = json::parse(event.data, nullptr, false);
      if (parsed.is_object()) {
        out += translate_event(*state_->translator, parsed);
      }
    }
    if (!state_->client_streams) {
      return written(true);
    }
    if (out.empty() && chunk == keepalive_comment) {
      out = std::move(chunk);
    }
    if (out.empty()) {
      return written(true);
    }
    state_->client_stream->write(std::move(out), std::move(written));
  }

  void finish() override {
    auto tail = finish_translation(*state_->translator);
    if (state_->client_streams) {
      if (!tail.empty()) {
        state_->client_stream->write(std::move(tail), [](bool) {});
      }
      state_->client_stream->finish();
      return;
    }
    auto reply = collect_translation(*state_->translator);
    if (!reply) {
      return state_->client->respond_error(errc::upstream_request_failed);
    }
    state_->client->respond_json(reply->status, reply->body);
  }

  void abort() override {
    if (state_->client_streams) {
      state_->client_stream->abort();
    } else {
      state_->client->respond_error(errc::upstream_request_failed);
    }
  }

private:
  std::shared_ptr<translation_state> state_;
};

/// Collects a stream the proxy writes into one body.
class collecting_stream : public reply_stream {
public:
  collecting_stream(http_stream_head head, std::function<void(http_response)> done)
      : done_(std::move(done)) {
    response_.result(head.result());
    for (const auto& field : head) {
      response_.set(field.name_string(), field.value());
    }
  }

  void write(std::string chunk, std::function<void(bool ok)> written) override {
    response_.body() += chunk;
    written(true);
  }
  void finish() override { done_(std::move(response_)); }
  void abort() override {
    response_.result(http::status::bad_gateway);
    done_(std::move(response_));
  }

private:
  http_response response_;
  std::function<void(http_response)> done_;
};

std::string default_type_for(unsigned status) {
  if (status == 401) {
    return "authentication_error";
  }
  if (status == 403) {
    return "permission_error";
  }
  if (status == 429) {
    return "rate_limit_error";
  }
  return status >= 500 ? "server_error" : "invalid_request_error";
}

} // namespace

http_response openai_error_reply(const http_response& answer) {
  const auto status = static_cast<unsigned>(answer.result_int());
  auto parsed = json::parse(answer.body(), nullptr, false);
  const auto& given = parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()
                        ? parsed["error"]
                        : json::object();
  auto body =
    error_envelope("The upstream request failed.", default_type_for(status), "upstream_error");
  auto& error = body["error"];
  const auto given_type = given.value("type", std::string{});
  if (given_type == "usage_limit_reached" || given.value("code", json{}) == "usage_limit_reached") {
    error["message"] = "The usage limit of every account in this pool has been reached.";
    error["type"] = "rate_limit_error";
    error["code"] = "usage_limit_reached";
    for (const char* field : {"resets_at", "resets_in_seconds"}) {
      if (given.contains(field) && given[field].is_number_integer()) {
        error[field] = given[field];
      }
    }
  } else if (!given.empty()) {
    if (given.contains("message") && given["message"].is_string() && status < 500) {
      auto message = given["message"].get<std::string>();
      if (message.size() > max_relayed_message_bytes) {
        message.resize(max_relayed_message_bytes);
      }
      error["message"] = message;
    } else if (given.contains("message") && given["message"].is_string()) {
      // Our own gateway errors (rendered from the error table) are safe; provider 5xx text is not.
      const auto code = given.value("code", json{});
      if (code.is_string() && given.contains("param")) {
        error["message"] = given["message"];
      }
    }
    if (!given_type.empty()) {
      error["type"] = sanitize_error_code(given_type);
    }
    if (given.contains("code") && !given["code"].is_null()) {
      error["code"] = sanitize_error_code(given["code"]);
    }
    if (given.contains("param") && given["param"].is_string()) {
      error["param"] = given["param"];
    }
  }
  http_response out{answer.result(), answer.version()};
  out.set(http::field::content_type, "application/json");
  out.set(http::field::cache_control, "no-store");
  if (auto it = answer.find(http::field::retry_after); it != answer.end()) {
    out.set(http::field::retry_after, it->value());
  }
  out.body() = body.dump();
  out.prepare_payload();
  return out;
}

exchange_ptr make_translating_exchange(const exchange_ptr& client, std::string upstream_body,
                                       std::string route_name,
                                       std::shared_ptr<stream_translator> translator,
                                       bool client_streams) {
  auto state = std::make_shared<translation_state>();
  state->client = client;
  state->translator = std::move(translator);
  state->client_streams = client_streams;
  auto reply = [state](http_response answer) {
    if (answer.result() != http::status::ok) {
      return state->client->respond(openai_error_reply(answer));
    }
    auto parsed = json::parse(answer.body(), nullptr, false);
    if (!parsed.is_object()) {
      return state->client->respond_error(errc::upstream_request_failed);
    }
    auto body = translate_response_object(*state->translator, parsed);
    if (!body) {
      return state->client->respond_error(errc::upstream_request_failed);
    }
    state->client->respond_json(http::status::ok, *body);
  };
  auto stream = [state](http_stream_head head) -> std::shared_ptr<reply_stream> {
    if (state->client_streams) {
      http_stream_head out{http::status::ok, head.version()};
      for (const auto& field : head) {
        if (field.name() != http::field::content_type) {
          out.set(field.name_string(), field.value());
        }
      }
      out.set(http::field::content_type, "text/event-stream; charset=utf-8");
      out.set(http::field::cache_control, "no-cache");
      state->client_stream = state->client->respond_stream(std::move(out));
      if (!state->client_stream) {
        return nullptr;
      }
    }
    return std::make_shared<translating_stream>(state);
  };
  auto adapter = std::make_shared<exchange>(
    adapted_request(client, std::move(upstream_body), "application/json"), client->client_ip(),
    std::move(reply), std::move(stream));
  adapter->set_route_name(std::move(route_name));
  share_home(*client, *adapter);
  return adapter;
}

exchange_ptr make_capturing_exchange(const exchange_ptr& client, std::string upstream_body,
                                     std::string content_type, std::string route_name,
                                     std::function<void(http_response)> done) {
  auto shared_done = std::make_shared<std::function<void(http_response)>>(std::move(done));
  auto reply = [shared_done](http_response answer) {
    (*shared_done)(std::move(answer));
  };
  auto stream = [shared_done](http_stream_head head) -> std::shared_ptr<reply_stream> {
    return std::make_shared<collecting_stream>(
      std::move(head), [shared_done](http_response answer) { (*shared_done)(std::move(answer)); });
  };
  auto adapter =
    std::make_shared<exchange>(adapted_request(client, std::move(upstream_body), content_type),
                               client->client_ip(), std::move(reply), std::move(stream));
  adapter->set_route_name(std::move(route_name));
  share_home(*client, *adapter);
  return adapter;
}

} // namespace cxp::edge::v1
