#include "edge/routes/v1/responses_request.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

/// Forwarded after normalization.
constexpr std::array<std::string_view, 17> forwarded_fields = {"client_metadata",
                                                               "include",
                                                               "input",
                                                               "instructions",
                                                               "metadata",
                                                               "model",
                                                               "parallel_tool_calls",
                                                               "prompt_cache_key",
                                                               "prompt_cache_options",
                                                               "reasoning",
                                                               "service_tier",
                                                               "stream",
                                                               "store",
                                                               "text",
                                                               "tool_choice",
                                                               "tools",
                                                               "moderation"};

/// Accepted but never sent: the Codex backend rejects or ignores them (notes §5.4).
constexpr std::array<std::string_view, 9> dropped_fields = {
  "max_output_tokens",      "temperature", "top_p", "safety_identifier",
  "prompt_cache_retention", "truncation",  "user",  "stream_options",
  "max_tool_calls"};

/// Accepted by OpenAI but impossible on a stateless Codex account.
constexpr std::array<std::string_view, 6> rejected_fields = {
  "background",         "conversation",         "prompt",
  "context_management", "previous_response_id", "top_logprobs"};

template <size_t N>
bool is_one_of(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

/// A content list for a shorthand message: a string becomes one text part of the role's kind.
json content_parts(const json& content, const std::string& role) {
  if (content.is_string()) {
    return json::array(
      {{{"type", role == "assistant" ? "output_text" : "input_text"}, {"text", content}}});
  }
  return content;
}

/// The text of a system/developer message (string or text parts), or nullopt when it holds
/// anything but text.
std::optional<std::string> text_of(const json& content) {
  if (content.is_string()) {
    return content.get<std::string>();
  }
  if (!content.is_array()) {
    return std::nullopt;
  }
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object() || !part.contains("text") || !part["text"].is_string()) {
      return std::nullopt;
    }
    const auto type = part.value("type", std::string{});
    if (type != "input_text" && type != "text" && type != "output_text") {
      return std::nullopt;
    }
    if (!text.empty()) {
      text += "\n";
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

std::optional<v1_error> normalize_input(json& body, std::string& lifted) {
  if (!body.contains("input")) {
    return invalid_parameter("input", "input is required");
  }
  auto& input = body["input"];
  if (input.is_string()) {
    input = json::array({{{"type", "message"},
                          {"role", "user"},
                          {"content", json::array({{{"type", "input_text"}, {"text", input}}})}}});
    return std::nullopt;
  }
  if (!input.is_array()) {
    return invalid_parameter("input", "input must be a string or an array of items");
  }
  json kept = json::array();
  for (auto item : input) {
    if (!item.is_object()) {
      return invalid_parameter("input", "every input item must be an object");
    }
    if (item.value("type", std::string{}) == "additional_tools") {
      for (const auto& tool : item.value("tools", json::array())) {
        if (tool.is_object() && tool.value("type", std::string{}) == "mcp") {
          return invalid_parameter("input", "mcp tools are not supported");
        }
      }
    }
    const bool message = !item.contains("type") || item["type"] == "message";
    if (message) {
      const auto role = item.value("role", std::string{});
      if (role.empty()) {
        return invalid_parameter("input", "every message needs a role");
      }
      item["type"] = "message";
      if ((role == "system" || role == "developer") && item.contains("content")) {
        if (auto text = text_of(item["content"])) {
          lifted += (lifted.empty() ? "" : "\n\n") + *text;
          continue;
        }
      }
      if (item.contains("content")) {
        item["content"] = content_parts(item["content"], role);
      }
    }
    kept.push_back(std::move(item));
  }
  input = std::move(kept);
  return std::nullopt;
}

/// Strict schemas must have an object root (the backend cannot enforce anything else).
std::optional<v1_error> check_schemas(const json& body) {
  if (body.contains("text") && body["text"].is_object() && body["text"].contains("format")) {
    const auto& format = body["text"]["format"];
    if (format.is_object() && format.value("type", std::string{}) == "json_schema"
        && (!format.contains("schema") || !format["schema"].is_object()
            || format["schema"].value("type", std::string{"object"}) != "object")) {
      return v1_error{errc::invalid_request, "the JSON schema root must be an object",
                      std::string{"text.format.schema"}};
    }
  }
  for (const auto& tool : body.value("tools", json::array())) {
    if (tool.is_object() && tool.value("type", std::string{}) == "function"
        && tool.value("strict", false) && tool.contains("parameters")
        && (!tool["parameters"].is_object()
            || tool["parameters"].value("type", std::string{"object"}) != "object")) {
      return v1_error{errc::invalid_request, "strict function parameters must be an object schema",
                      std::string{"tools"}};
    }
  }
  if (body.contains("reasoning") && body["reasoning"].is_object()
      && body["reasoning"].contains("context")) {
    const auto& context = body["reasoning"]["context"];
    if (context != "auto" && context != "current_turn" && context != "all_turns") {
      return invalid_parameter("reasoning.context",
                               "reasoning.context must be auto, current_turn or all_turns");
    }
  }
  return std::nullopt;
}

std::optional<v1_error> check_tools(const json& body) {
  if (!body.contains("tools")) {
    return std::nullopt;
  }
  if (!body["tools"].is_array()) {
    return invalid_parameter("tools", "tools must be an array");
  }
  for (const auto& tool : body["tools"]) {
    if (!tool.is_object() || !tool.contains("type") || !tool["type"].is_string()) {
      return invalid_parameter("tools", "every tool needs a type");
    }
    if (tool["type"] == "mcp") {
      return invalid_parameter("tools", "mcp tools are not supported");
    }
    if ((tool["type"] == "function" || tool["type"] == "custom")
        && (!tool.contains("name") || !tool["name"].is_string())) {
      return invalid_parameter("tools", "function and custom tools need a name");
    }
  }
  return std::nullopt;
}

void ensure_reasoning(json& body) {
  if (!body.contains("reasoning") || !body["reasoning"].is_object()) {
    body["reasoning"] = json::object();
  }
  json include = json::array();
  if (body.contains("include") && body["include"].is_array()) {
    for (const auto& entry : body["include"]) {
      if (entry != "reasoning.encrypted_content") {
        include.push_back(entry);
      }
    }
  }
  include.push_back("reasoning.encrypted_content");
  body["include"] = std::move(include);
}

} // namespace

std::optional<v1_error> normalize_responses_request(const json& client, normalized_request& out) {
  if (!client.is_object()) {
    return v1_error{errc::invalid_request, "request body must be a JSON object", std::nullopt};
  }
  json body = json::object();
  for (const auto& [name, value] : client.items()) {
    if (value.is_null()) {
      continue;
    }
    if (is_one_of(rejected_fields, name)) {
      if (name == "top_logprobs" && value == 0) {
        continue;
      }
      if (name == "background" && value == false) {
        continue;
      }
      return unsupported_parameter(name);
    }
    if (is_one_of(dropped_fields, name)) {
      continue;
    }
    if (!is_one_of(forwarded_fields, name)) {
      return unsupported_parameter(name);
    }
    body[name] = value;
  }
  if (!body.contains("model") || !body["model"].is_string() || body["model"] == "") {
    return invalid_parameter("model", "model is required");
  }
  if (body.contains("stream") && !body["stream"].is_boolean()) {
    return invalid_parameter("stream", "stream must be a boolean");
  }
  out.client_stream = body.value("stream", false);
  if (auto error = guarded("tools", [&] { return check_tools(body); })) {
    return error;
  }
  if (auto error = guarded("text", [&] { return check_schemas(body); })) {
    return error;
  }
  std::string lifted;
  if (auto error = guarded("input", [&] { return normalize_input(body, lifted); })) {
    return error;
  }
  std::string instructions;
  if (body.contains("instructions")) {
    if (!body["instructions"].is_string()) {
      return invalid_parameter("instructions", "instructions must be a string");
    }
    instructions = body["instructions"].get<std::string>();
  }
  if (!lifted.empty()) {
    instructions += (instructions.empty() ? "" : "\n\n") + lifted;
  }
  body["instructions"] = instructions;
  if (body.contains("service_tier") && body["service_tier"].is_string()) {
    const auto tier = body["service_tier"].get<std::string>();
    if (tier == "fast") {
      body["service_tier"] = "priority";
    } else if (tier == "auto" || tier == "default") {
      body.erase("service_tier");
    }
  }
  ensure_reasoning(body);
  body["stream"] = true;
  body["store"] = false;
  out.body = std::move(body);
  return std::nullopt;
}

} // namespace cxp::edge::v1
