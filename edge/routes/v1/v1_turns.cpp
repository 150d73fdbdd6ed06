// The /v1 routes that become one Codex Responses turn: public Responses, chat completions and
// images. Each parses and translates the body (pure functions), then hands run_proxy_turn an
// adapter exchange that translates the answer back onto the client's exchange.
#include "common/json_input.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/v1/chat_request.hpp"
#include "edge/routes/v1/chat_response.hpp"
#include "edge/routes/v1/images.hpp"
#include "edge/routes/v1/multipart.hpp"
#include "edge/routes/v1/responses_request.hpp"
#include "edge/routes/v1/v1_adapter.hpp"
#include "edge/routes/v1/v1_context.hpp"
#include "edge/routes/v1/v1_fields.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

int64_t unix_now(const v1_state_ptr& state) {
  return std::chrono::duration_cast<std::chrono::seconds>(
           state->runtime.services.clock.now().time_since_epoch())
    .count();
}

/// The body as a JSON object whose declared fields have their declared types, or the 400 sent.
std::optional<json> parse_body(const exchange_ptr& ex, std::span<const field_rule> rules) {
  json body;
  if (auto problem = parse_untrusted(ex->request().body(), body)) {
    ex->respond_error(errc::invalid_request, problem->message);
    return std::nullopt;
  }
  if (auto problem = check_fields(body, rules).problem) {
    ex->respond_error(errc::invalid_request, problem->message,
                      problem->field.empty() ? std::nullopt
                                             : std::optional<std::string>{problem->field});
    return std::nullopt;
  }
  return body;
}

/// An enforced model fills a missing one, so the field check does not refuse it.
void default_enforced_model(json& body, const authenticated_key& key) {
  if (key.key.policy.enforced_model
      && (!body.contains("model") || !body["model"].is_string() || body["model"] == "")) {
    body["model"] = *key.key.policy.enforced_model;
  }
}

/// Normalizes `responses` (a public Responses body), applies the key policy and runs the turn
/// with `translator` in between.
void run_translated(const v1_state_ptr& state, const exchange_ptr& ex, const authenticated_key& key,
                    const json& responses, std::shared_ptr<stream_translator> translator,
                    bool client_streams) {
  normalized_request normalized;
  if (auto error = normalize_responses_request(responses, normalized)) {
    return respond(ex, *error);
  }
  auto changed = apply_key_policy(normalized.body, key.key.policy);
  if (!changed) {
    return ex->respond_error(changed.error());
  }
  turn_request request;
  route_turn(state, ex, key, normalized.body, request);
  request.upstream_path = "/codex/responses";
  request.route = actors::route_class::responses;
  request.admission =
    client_streams ? domain::admission_class::proxy_stream : domain::admission_class::proxy_http;
  request.body = normalized.body.dump();
  request.expects_sse = true; // the normalized body always streams
  request.ex = make_translating_exchange(ex, request.body, ex->route_name(), std::move(translator),
                                         client_streams);
  run_proxy_turn(state->runtime, std::move(request));
}

} // namespace

void handle_responses(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, false, [state, ex](authenticated_key key) {
    auto body = parse_body(ex, responses_body_fields);
    if (!body) {
      return;
    }
    default_enforced_model(*body, key);
    const bool client_streams = body->value("stream", false) == true;
    run_translated(state, ex, key, *body, std::make_shared<public_responses_translator>(),
                   client_streams);
  });
}

void handle_chat(const v1_state_ptr& state, const exchange_ptr& ex, bool gated) {
  with_v1_key(state, ex, gated, false, [state, ex](authenticated_key key) {
    auto body = parse_body(ex, chat_body_fields);
    if (!body) {
      return;
    }
    default_enforced_model(*body, key);
    chat_translation chat;
    if (auto error = chat_to_responses(*body, chat)) {
      return respond(ex, *error);
    }
    auto translator = std::make_shared<chat_stream_translator>(
      chat.responses.value("model", std::string{}), chat.include_usage, unix_now(state));
    run_translated(state, ex, key, chat.responses, std::move(translator), chat.stream);
  });
}

void handle_image_generation(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, true, [state, ex](authenticated_key key) {
    auto body = parse_body(ex, image_body_fields);
    if (!body) {
      return;
    }
    image_options options;
    if (auto error = guarded("prompt", [&] { return image_generation_options(*body, options); })) {
      return respond(ex, *error);
    }
    with_pool_model(state, ex, key, [state, ex, key, options](std::string model) {
      run_translated(state, ex, key, image_responses_request(options, model, {}, false),
                     std::make_shared<images_translator>(unix_now(state)), false);
    });
  });
}

void handle_image_edit(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, true, [state, ex](authenticated_key key) {
    const auto content_type = std::string{ex->request()[http::field::content_type]};
    auto parts = parse_multipart(content_type, ex->request().body());
    if (!parts) {
      return ex->respond_error(errc::invalid_request, "request body must be multipart/form-data");
    }
    image_options options;
    std::vector<std::string> images;
    bool has_mask = false;
    if (auto error = image_edit_options(*parts, options, images, has_mask)) {
      return respond(ex, *error);
    }
    with_pool_model(
      state, ex, key,
      [state, ex, key, options, images = std::move(images), has_mask](std::string model) {
        run_translated(state, ex, key, image_responses_request(options, model, images, has_mask),
                       std::make_shared<images_translator>(unix_now(state)), false);
      });
  });
}

} // namespace cxp::edge::v1
