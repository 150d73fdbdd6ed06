#include "edge/routes/v1/chat_request.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "common/encoding.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

/// Copied unchanged into the Responses request.
constexpr std::array<std::string_view, 11> copied_fields = {"parallel_tool_calls",
                                                            "metadata",
                                                            "moderation",
                                                            "prompt_cache_key",
                                                            "prompt_cache_options",
                                                            "prompt_cache_retention",
                                                            "safety_identifier",
                                                            "service_tier",
                                                            "store",
                                                            "temperature",
                                                            "top_p"};

/// Handled one by one below.
constexpr std::array<std::string_view, 11> translated_fields = {"model",
                                                                "messages",
                                                                "tools",
                                                                "tool_choice",
                                                                "max_tokens",
                                                                "max_completion_tokens",
                                                                "reasoning_effort",
                                                                "response_format",
                                                                "verbosity",
                                                                "stream",
                                                                "stream_options"};

/// Chat parameters the Codex backend cannot honour (notes §5.1), unless given their neutral
/// value (checked in `is_neutral`).
constexpr std::array<std::string_view, 16> rejected_fields = {
  "audio",      "frequency_penalty", "logit_bias",
  "logprobs",   "modalities",        "n",
  "prediction", "presence_penalty",  "seed",
  "stop",       "top_logprobs",      "web_search_options",
  "functions",  "function_call",     "instructions",
  "input"};

template <size_t N>
bool is_one_of(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool is_neutral(std::string_view name, const json& value) {
  if (name == "n") {
    return value == 1;
  }
  if (name == "logprobs") {
    return value == false;
  }
  if (name == "frequency_penalty" || name == "presence_penalty") {
    return value.is_number() && value.get<double>() == 0.0;
  }
  if (name == "modalities") {
    return value == json::array({"text"});
  }
  return false;
}

std::optional<v1_error> translate_part(const json& part, const std::string& role, json& out) {
  if (part.is_string()) {
    out = {{"type", role == "assistant" ? "output_text" : "input_text"}, {"text", part}};
    return std::nullopt;
  }
  if (!part.is_object()) {
    return invalid_parameter("messages", "content parts must be objects");
  }
  const auto type = part.value("type", std::string{});
  if (type == "text" || type == "input_text" || type == "output_text") {
    if (!part.contains("text") || !part["text"].is_string()) {
      return invalid_parameter("messages", "text parts need a text string");
    }
    out = {{"type", role == "assistant" ? "output_text" : "input_text"}, {"text", part["text"]}};
    return std::nullopt;
  }
  if (type == "refusal") {
    out = {{"type", "refusal"}, {"refusal", part.value("refusal", std::string{})}};
    return std::nullopt;
  }
  if (type == "image_url") {
    const auto& image = part.contains("image_url") ? part["image_url"] : json{};
    std::string url;
    if (image.is_string()) {
      url = image.get<std::string>();
    } else if (image.is_object() && image.contains("url") && image["url"].is_string()) {
      url = image["url"].get<std::string>();
    }
    if (url.empty()) {
      return invalid_parameter("messages", "image_url parts need a url");
    }
    out = {{"type", "input_image"}, {"image_url", url}};
    if (image.is_object() && image.contains("detail") && image["detail"].is_string()) {
      out["detail"] = image["detail"];
    } else {
      out["detail"] = "auto";
    }
    return std::nullopt;
  }
  if (type == "file") {
    const auto& file = part.value("file", json::object());
    out = {{"type", "input_file"}};
    if (file.contains("file_id") && file["file_id"].is_string()) {
      out["file_id"] = file["file_id"];
    } else if (file.contains("file_data") && file["file_data"].is_string()) {
      out["file_data"] = file["file_data"];
      out["filename"] = file.value("filename", std::string{"file"});
    } else {
      return invalid_parameter("messages", "file parts need file_id or file_data");
    }
    return std::nullopt;
  }
  if (type == "input_audio") {
    const auto& audio = part.value("input_audio", json::object());
    if (!audio.contains("data") || !audio["data"].is_string()) {
      return invalid_parameter("messages", "input_audio parts need data");
    }
    out = {{"type", "input_audio"}, {"input_audio", audio}};
    return std::nullopt;
  }
  return invalid_parameter("messages", "unsupported content part type");
}

std::optional<v1_error> translate_content(const json& content, const std::string& role,
                                          json& parts) {
  parts = json::array();
  if (content.is_null()) {
    return std::nullopt;
  }
  if (content.is_string()) {
    json part;
    translate_part(content, role, part);
    parts.push_back(std::move(part));
    return std::nullopt;
  }
  if (!content.is_array()) {
    return invalid_parameter("messages", "content must be a string or an array of parts");
  }
  for (const auto& raw : content) {
    // Cline-style tool parts inside messages are items of their own, handled by the caller.
    const auto type = raw.is_object() ? raw.value("type", std::string{}) : std::string{};
    if (type == "tool-call" || type == "tool-result") {
      continue;
    }
    json part;
    if (auto error = translate_part(raw, role, part)) {
      return error;
    }
    parts.push_back(std::move(part));
  }
  return std::nullopt;
}

std::string arguments_text(const json& arguments) {
  if (arguments.is_string()) {
    return arguments.get<std::string>();
  }
  return arguments.is_null() ? "{}" : arguments.dump();
}

std::string output_text(const json& content) {
  if (content.is_string()) {
    return content.get<std::string>();
  }
  if (content.is_array()) {
    std::string text;
    for (const auto& part : content) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>();
      } else if (part.is_string()) {
        text += part.get<std::string>();
      }
    }
    return text;
  }
  return content.is_null() ? std::string{} : content.dump();
}

/// Cline-style `tool-call` / `tool-result` parts carried inside a message's content.
void cline_tool_items(const json& content, json& input) {
  if (!content.is_array()) {
    return;
  }
  for (const auto& part : content) {
    if (!part.is_object()) {
      continue;
    }
    const auto type = part.value("type", std::string{});
    if (type == "tool-call") {
      input.push_back({{"type", "function_call"},
                       {"call_id", part.value("toolCallId", std::string{})},
                       {"name", part.value("toolName", std::string{})},
                       {"arguments", arguments_text(part.value("args", json::object()))}});
    } else if (type == "tool-result") {
      input.push_back({{"type", "function_call_output"},
                       {"call_id", part.value("toolCallId", std::string{})},
                       {"output", output_text(part.value("result", json{}))}});
    }
  }
}

std::optional<v1_error> translate_messages(const json& messages, json& input) {
  if (!messages.is_array() || messages.empty()) {
    return invalid_parameter("messages", "messages must be a non-empty array");
  }
  input = json::array();
  for (const auto& message : messages) {
    if (!message.is_object() || !message.contains("role") || !message["role"].is_string()) {
      return invalid_parameter("messages", "every message needs a role");
    }
    const auto role = message["role"].get<std::string>();
    const auto content = message.contains("content") ? message["content"] : json{};
    if (role == "tool") {
      if (!message.contains("tool_call_id") || !message["tool_call_id"].is_string()) {
        return invalid_parameter("messages", "tool messages need a tool_call_id");
      }
      input.push_back({{"type", "function_call_output"},
                       {"call_id", message["tool_call_id"]},
                       {"output", output_text(content)}});
      continue;
    }
    if (role != "system" && role != "developer" && role != "user" && role != "assistant") {
      return invalid_parameter("messages", "unsupported message role");
    }
    json parts;
    if (auto error = translate_content(content, role, parts)) {
      return error;
    }
    if (!parts.empty()) {
      input.push_back({{"type", "message"}, {"role", role}, {"content", std::move(parts)}});
    }
    cline_tool_items(content, input);
    if (role == "assistant" && message.contains("tool_calls") && message["tool_calls"].is_array()) {
      for (const auto& call : message["tool_calls"]) {
        const auto type = call.value("type", std::string{"function"});
        if (type == "custom") {
          const auto custom = call.value("custom", json::object());
          input.push_back({{"type", "custom_tool_call"},
                           {"call_id", call.value("id", std::string{})},
                           {"name", custom.value("name", std::string{})},
                           {"input", custom.value("input", std::string{})}});
          continue;
        }
        const auto function = call.value("function", json::object());
        input.push_back({{"type", "function_call"},
                         {"call_id", call.value("id", std::string{})},
                         {"name", function.value("name", std::string{})},
                         {"arguments", arguments_text(function.value("arguments", json{}))}});
      }
    }
  }
  return std::nullopt;
}

std::optional<v1_error> translate_tools(const json& tools, json& out) {
  if (!tools.is_array()) {
    return invalid_parameter("tools", "tools must be an array");
  }
  out = json::array();
  for (const auto& tool : tools) {
    const auto type = tool.is_object() ? tool.value("type", std::string{}) : std::string{};
    if (type == "function") {
      const auto function = tool.value("function", json::object());
      if (!function.contains("name") || !function["name"].is_string()) {
        return invalid_parameter("tools", "function tools need a name");
      }
      json flat = {{"type", "function"}, {"name", function["name"]}};
      flat["parameters"] =
        function.value("parameters", json{{"type", "object"}, {"properties", json::object()}});
      for (const char* field : {"description", "strict"}) {
        if (function.contains(field) && !function[field].is_null()) {
          flat[field] = function[field];
        }
      }
      if (!flat.contains("strict")) {
        flat["strict"] = false;
      }
      out.push_back(std::move(flat));
    } else if (type == "custom") {
      const auto custom = tool.value("custom", json::object());
      if (!custom.contains("name") || !custom["name"].is_string()) {
        return invalid_parameter("tools", "custom tools need a name");
      }
      json flat = {{"type", "custom"}, {"name", custom["name"]}};
      for (const char* field : {"description", "format"}) {
        if (custom.contains(field) && !custom[field].is_null()) {
          flat[field] = custom[field];
        }
      }
      out.push_back(std::move(flat));
    } else {
      return invalid_parameter("tools", "only function and custom tools are supported");
    }
  }
  return std::nullopt;
}

std::optional<v1_error> translate_tool_choice(const json& choice, json& out) {
  if (choice.is_string()) {
    const auto value = choice.get<std::string>();
    if (value != "auto" && value != "none" && value != "required") {
      return invalid_parameter("tool_choice", "tool_choice must be auto, none or required");
    }
    out = choice;
    return std::nullopt;
  }
  if (choice.is_object()) {
    const auto type = choice.value("type", std::string{});
    if (type == "function" && choice.contains("function") && choice["function"].contains("name")) {
      out = {{"type", "function"}, {"name", choice["function"]["name"]}};
      return std::nullopt;
    }
    if (type == "custom" && choice.contains("custom") && choice["custom"].contains("name")) {
      out = {{"type", "custom"}, {"name", choice["custom"]["name"]}};
      return std::nullopt;
    }
  }
  return invalid_parameter("tool_choice", "unsupported tool_choice");
}

std::optional<v1_error> translate_response_format(const json& format, json& text) {
  const auto type = format.is_object() ? format.value("type", std::string{}) : std::string{};
  if (type == "text" || type == "json_object") {
    text["format"] = {{"type", type}};
    return std::nullopt;
  }
  if (type == "json_schema") {
    const auto schema = format.value("json_schema", json::object());
    if (!schema.contains("name") || !schema["name"].is_string()) {
      return invalid_parameter("response_format", "json_schema needs a name");
    }
    json out = {{"type", "json_schema"}, {"name", schema["name"]}};
    out["schema"] = schema.value("schema", json::object());
    if (!out["schema"].is_object()) {
      return {{errc::invalid_request, "the JSON schema root must be an object",
               std::string{"response_format"}}};
    }
    for (const char* field : {"strict", "description"}) {
      if (schema.contains(field) && !schema[field].is_null()) {
        out[field] = schema[field];
      }
    }
    text["format"] = std::move(out);
    return std::nullopt;
  }
  return invalid_parameter("response_format", "response_format must be text, json_object or "
                                              "json_schema");
}

} // namespace

std::optional<v1_error> chat_to_responses(const json& chat, chat_translation& out) {
  if (!chat.is_object()) {
    return v1_error{errc::invalid_request, "request body must be a JSON object", std::nullopt};
  }
  json responses = json::object();
  json text = json::object();
  for (const auto& [name, value] : chat.items()) {
    if (value.is_null()) {
      continue;
    }
    if (is_one_of(rejected_fields, name)) {
      if (is_neutral(name, value)) {
        continue;
      }
      return unsupported_parameter(name);
    }
    if (name == "user") {
      continue; // an end-user id for abuse tracking; the backend has no use for it
    }
    if (is_one_of(copied_fields, name)) {
      if (name == "service_tier" && value == "ultrafast") {
        return unsupported_parameter(name);
      }
      responses[name] = value;
      continue;
    }
    if (!is_one_of(translated_fields, name)) {
      return unsupported_parameter(name);
    }
  }
  if (!chat.contains("model") || !chat["model"].is_string() || chat["model"] == "") {
    return invalid_parameter("model", "model is required");
  }
  responses["model"] = chat["model"];
  json input;
  if (auto error = guarded(
        "messages", [&] { return translate_messages(chat.value("messages", json{}), input); })) {
    return error;
  }
  responses["input"] = std::move(input);
  if (chat.contains("tools") && !chat["tools"].is_null()) {
    json tools;
    if (auto error = guarded("tools", [&] { return translate_tools(chat["tools"], tools); })) {
      return error;
    }
    responses["tools"] = std::move(tools);
  }
  if (chat.contains("tool_choice") && !chat["tool_choice"].is_null()) {
    json choice;
    if (auto error = guarded("tool_choice",
                             [&] { return translate_tool_choice(chat["tool_choice"], choice); })) {
      return error;
    }
    responses["tool_choice"] = std::move(choice);
  }
  for (const char* field : {"max_completion_tokens", "max_tokens"}) {
    if (chat.contains(field) && chat[field].is_number_integer()) {
      responses["max_output_tokens"] = chat[field];
      break;
    }
  }
  if (chat.contains("reasoning_effort") && chat["reasoning_effort"].is_string()) {
    responses["reasoning"] = {
      {"effort", ascii_lowercase(chat["reasoning_effort"].get_ref<const std::string&>())}};
  }
  if (chat.contains("response_format") && !chat["response_format"].is_null()) {
    if (auto error = guarded("response_format", [&] {
          return translate_response_format(chat["response_format"], text);
        })) {
      return error;
    }
  }
  if (chat.contains("verbosity") && chat["verbosity"].is_string()) {
    const auto verbosity = chat["verbosity"].get<std::string>();
    if (verbosity != "low" && verbosity != "medium" && verbosity != "high") {
      return invalid_parameter("verbosity", "verbosity must be low, medium or high");
    }
    text["verbosity"] = verbosity;
  }
  if (!text.empty()) {
    responses["text"] = std::move(text);
  }
  if (chat.contains("stream") && !chat["stream"].is_null() && !chat["stream"].is_boolean()) {
    return invalid_parameter("stream", "stream must be a boolean");
  }
  out.stream = chat.value("stream", false);
  out.include_usage = out.stream && chat.contains("stream_options")
                      && chat["stream_options"].is_object()
                      && chat["stream_options"].contains("include_usage")
                      && chat["stream_options"]["include_usage"] == true;
  responses["stream"] = out.stream;
  out.responses = std::move(responses);
  return std::nullopt;
}

} // namespace cxp::edge::v1
