#include "edge/routes/v1/chat_response.hpp"

#include <algorithm>
#include <cstdint>

#include "edge/errors/error_table.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

/// The integer at `path` of `object`, else `fallback`: upstream numbers are untrusted, and a
/// fractional or out-of-range one must not reach an integer conversion.
int64_t integer_at(const json& object, const json::json_pointer& path, int64_t fallback) {
  if (!object.is_object() || !object.contains(path)) {
    return fallback;
  }
  const auto& value = object.at(path);
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    return number > uint64_t{INT64_MAX} ? fallback : static_cast<int64_t>(number);
  }
  return value.is_number_integer() ? value.get<int64_t>() : fallback;
}

/// A token count of a usage object: at most 10^15, so sums cannot overflow.
int64_t tokens_at(const json& usage, const char* path) {
  return std::clamp<int64_t>(integer_at(usage, json::json_pointer{path}, 0), 0,
                             1'000'000'000'000'000);
}

bool is_tool_item(const json& item) {
  const auto type = item.value("type", std::string{});
  return type == "function_call" || type == "custom_tool_call";
}

json tool_call_of(const json& item, int index, bool with_index) {
  json call = {{"id", item.value("call_id", item.value("id", std::string{}))}};
  if (with_index) {
    call["index"] = index;
  }
  if (item.value("type", std::string{}) == "custom_tool_call") {
    call["type"] = "custom";
    call["custom"] = {{"name", item.value("name", std::string{})},
                      {"input", item.value("input", std::string{})}};
  } else {
    call["type"] = "function";
    call["function"] = {{"name", item.value("name", std::string{})},
                        {"arguments", item.value("arguments", std::string{})}};
  }
  return call;
}

std::string text_of_message(const json& item) {
  std::string text;
  for (const auto& part : item.value("content", json::array())) {
    if (part.is_object() && part.value("type", std::string{}) == "output_text") {
      text += part.value("text", std::string{});
    }
  }
  return text;
}

} // namespace

std::string finish_reason_of(const json& response) {
  for (const auto& item : response.value("output", json::array())) {
    if (item.is_object() && is_tool_item(item)) {
      return "tool_calls";
    }
  }
  if (response.value("status", std::string{}) == "incomplete") {
    const auto reason = response.value(json::json_pointer{"/incomplete_details/reason"},
                                       std::string{"max_output_tokens"});
    return reason == "content_filter" ? "content_filter" : "length";
  }
  return "stop";
}

json chat_usage_of(const json& response) {
  if (!response.contains("usage") || !response["usage"].is_object()) {
    return nullptr;
  }
  const auto& usage = response["usage"];
  const auto input = tokens_at(usage, "/input_tokens");
  const auto output = tokens_at(usage, "/output_tokens");
  return {{"prompt_tokens", input},
          {"completion_tokens", output},
          {"total_tokens",
           usage.contains("total_tokens") ? tokens_at(usage, "/total_tokens") : input + output},
          {"prompt_tokens_details",
           {{"cached_tokens", tokens_at(usage, "/input_tokens_details/cached_tokens")}}},
          {"completion_tokens_details",
           {{"reasoning_tokens", tokens_at(usage, "/output_tokens_details/reasoning_tokens")}}}};
}

json chat_completion_from(const json& response, const std::string& model) {
  std::string text;
  bool has_text = false;
  json calls = json::array();
  std::string refusal;
  for (const auto& item : response.value("output", json::array())) {
    if (!item.is_object()) {
      continue;
    }
    if (item.value("type", std::string{}) == "message") {
      for (const auto& part : item.value("content", json::array())) {
        if (part.value("type", std::string{}) == "output_text") {
          text += part.value("text", std::string{});
          has_text = true;
        } else if (part.value("type", std::string{}) == "refusal") {
          refusal += part.value("refusal", std::string{});
        }
      }
    } else if (is_tool_item(item)) {
      calls.push_back(tool_call_of(item, static_cast<int>(calls.size()), false));
    }
  }
  json message = {{"role", "assistant"},
                  {"content", has_text ? json(text) : json(nullptr)},
                  {"refusal", refusal.empty() ? json(nullptr) : json(refusal)}};
  if (!calls.empty()) {
    message["tool_calls"] = std::move(calls);
  }
  json completion = {
    {"id", "chatcmpl-" + response.value("id", std::string{"unknown"})},
    {"object", "chat.completion"},
    {"created", integer_at(response, json::json_pointer{"/created_at"}, 0)},
    {"model", response.value("model", model)},
    {"choices", json::array({{{"index", 0},
                              {"message", std::move(message)},
                              {"logprobs", nullptr},
                              {"finish_reason", finish_reason_of(response)}}})},
  };
  auto usage = chat_usage_of(response);
  if (!usage.is_null()) {
    completion["usage"] = std::move(usage);
  }
  return completion;
}

std::string chat_stream_translator::id() const {
  const auto response = accumulator_.response();
  return "chatcmpl-" + response.value("id", std::string{"unknown"});
}

std::string chat_stream_translator::chunk(json delta, json finish_reason) {
  json out = {{"id", id()},
              {"object", "chat.completion.chunk"},
              {"created", created_},
              {"model", model_},
              {"choices", json::array({{{"index", 0},
                                        {"delta", std::move(delta)},
                                        {"logprobs", nullptr},
                                        {"finish_reason", std::move(finish_reason)}}})}};
  return sse_data(out);
}

std::string chat_stream_translator::ensure_role() {
  if (role_sent_) {
    return {};
  }
  role_sent_ = true;
  return chunk({{"role", "assistant"}, {"content", ""}});
}

std::string chat_stream_translator::tool_started(const json& item) {
  const auto item_id = item.value("id", item.value("call_id", std::string{}));
  if (tools_.count(item_id) != 0) {
    return {};
  }
  const int index = static_cast<int>(tools_.size());
  tools_[item_id] = {index, false};
  auto call = tool_call_of(item, index, true);
  // Arguments arrive as deltas; the opening chunk names the call with empty arguments.
  if (call.contains("function")) {
    call["function"]["arguments"] = "";
  } else {
    call["custom"]["input"] = "";
  }
  return ensure_role() + chunk({{"tool_calls", json::array({call})}});
}

std::string chat_stream_translator::on_event(const json& event) {
  if (ended_) {
    return {};
  }
  const auto type = accumulator_.add(event);
  const auto item = event.contains("item") && event["item"].is_object() ? event["item"] : json{};
  if (event.contains("output_index") && event["output_index"].is_number_integer()
      && item.is_object() && item.contains("id")) {
    item_at_[event["output_index"].get<int64_t>()] = item.value("id", std::string{});
  }
  std::string item_id = event.value("item_id", std::string{});
  if (item_id.empty() && event.contains("output_index")
      && event["output_index"].is_number_integer()) {
    if (auto it = item_at_.find(event["output_index"].get<int64_t>()); it != item_at_.end()) {
      item_id = it->second;
    }
  }
  if (type == "response.output_text.delta") {
    text_streamed_[item_id] = true;
    const auto delta = event.value("delta", std::string{});
    return ensure_role() + (delta.empty() ? std::string{} : chunk({{"content", delta}}));
  }
  if (type == "response.refusal.delta") {
    const auto delta = event.value("delta", std::string{});
    return ensure_role() + (delta.empty() ? std::string{} : chunk({{"refusal", delta}}));
  }
  if (type == "response.output_item.added" && is_tool_item(item)) {
    return tool_started(item);
  }
  if (type == "response.function_call_arguments.delta"
      || type == "response.custom_tool_call_input.delta") {
    auto it = tools_.find(item_id);
    if (it == tools_.end()) {
      return {};
    }
    it->second.arguments_sent = true;
    json call = {{"index", it->second.index}};
    if (type == "response.function_call_arguments.delta") {
      call["function"] = {{"arguments", event.value("delta", std::string{})}};
    } else {
      call["custom"] = {{"input", event.value("delta", std::string{})}};
    }
    return chunk({{"tool_calls", json::array({call})}});
  }
  if (type == "response.output_item.done" && item.is_object()) {
    const auto id = item.value("id", std::string{});
    if (is_tool_item(item)) {
      // A minimal stream may deliver a call only here: announce it and its arguments at once.
      auto out = tool_started(item);
      auto& state = tools_[id.empty() ? item.value("call_id", std::string{}) : id];
      if (!state.arguments_sent) {
        state.arguments_sent = true;
        json call = {{"index", state.index}};
        if (item.value("type", std::string{}) == "custom_tool_call") {
          call["custom"] = {{"input", item.value("input", std::string{})}};
        } else {
          call["function"] = {{"arguments", item.value("arguments", std::string{})}};
        }
        out += chunk({{"tool_calls", json::array({call})}});
      }
      return out;
    }
    if (item.value("type", std::string{}) == "message" && !text_streamed_[id]) {
      const auto text = text_of_message(item);
      text_streamed_[id] = true;
      if (!text.empty()) {
        return ensure_role() + chunk({{"content", text}});
      }
    }
    return {};
  }
  if (type == "response.completed" || type == "response.incomplete") {
    return finished();
  }
  if (type == "response.failed" || type == "error") {
    return failed();
  }
  return {};
}

std::string chat_stream_translator::finished() {
  ended_ = true;
  const auto response = accumulator_.response();
  auto out = ensure_role();
  out += chunk(json::object(), finish_reason_of(response));
  if (include_usage_) {
    json usage_chunk = {
      {"id", id()},      {"object", "chat.completion.chunk"}, {"created", created_},
      {"model", model_}, {"choices", json::array()},          {"usage", chat_usage_of(response)}};
    out += sse_data(usage_chunk);
  }
  out += "data: [DONE]\n\n";
  return out;
}

std::string chat_stream_translator::failed() {
  ended_ = true;
  return sse_data(upstream_error_envelope(accumulator_.error()));
}

std::string chat_stream_translator::on_end() {
  if (ended_) {
    return {};
  }
  accumulator_.add({{"type", "error"}, {"code", "stream_incomplete"}});
  return failed();
}

collected_reply chat_stream_translator::collected() const {
  using boost::beast::http::status;
  switch (accumulator_.state()) {
  case responses_accumulator::terminal::completed:
  case responses_accumulator::terminal::incomplete:
    return {status::ok, chat_completion_from(accumulator_.response(), model_)};
  case responses_accumulator::terminal::failed:
    return {status::bad_gateway, upstream_error_envelope(accumulator_.error())};
  case responses_accumulator::terminal::none:
    break;
  }
  return {status::bad_gateway, upstream_error_envelope({{"code", "stream_incomplete"}})};
}

json chat_stream_translator::from_response_object(const json& response) const {
  return chat_completion_from(response, model_);
}

} // namespace cxp::edge::v1
