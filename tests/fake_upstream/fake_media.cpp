#include "tests/fake_upstream/fake_media.hpp"

#include <algorithm>
#include <chrono>

namespace cxp::test {

namespace {

using json = nlohmann::json;

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

media_reply json_answer(int status, const json& body) {
  return {status, {{"content-type", "application/json"}}, body.dump()};
}

media_reply not_found(const std::string& message) {
  return json_answer(
    404, {{"error",
           {{"message", message}, {"type", "invalid_request_error"}, {"code", "file_not_found"}}}});
}

std::string quoted_parameter(const std::string& text, const std::string& key) {
  auto at = text.find(key + "=\"");
  if (at == std::string::npos) {
    return {};
  }
  at += key.size() + 2;
  return text.substr(at, text.find('"', at) - at);
}

/// name -> {filename, data} of a multipart body (good enough for the gateway's own encoder and
/// for SDK encoders: CRLF lines, quoted parameters).
std::map<std::string, std::pair<std::string, std::string>>
form_fields(const std::string& content_type, const std::string& body) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  auto boundary = content_type.substr(content_type.find("boundary=") + 9);
  if (!boundary.empty() && boundary.front() == '"') {
    boundary = boundary.substr(1, boundary.find('"', 1) - 1);
  }
  boundary = boundary.substr(0, boundary.find(';'));
  const std::string delimiter = "--" + boundary;
  size_t at = body.find(delimiter);
  while (at != std::string::npos) {
    at += delimiter.size();
    if (body.compare(at, 2, "--") == 0) {
      break;
    }
    auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string::npos) {
      break;
    }
    auto headers = body.substr(at, headers_end - at);
    auto next = body.find("\r\n" + delimiter, headers_end + 4);
    if (next == std::string::npos) {
      break;
    }
    out[quoted_parameter(headers, " name")] = {
      quoted_parameter(headers, "filename"), body.substr(headers_end + 4, next - headers_end - 4)};
    at = next + 2;
  }
  return out;
}

std::string last_user_text(const json& input) {
  if (!input.is_array()) {
    return input.is_string() ? input.get<std::string>() : std::string{};
  }
  for (auto it = input.rbegin(); it != input.rend(); ++it) {
    if (it->is_object() && it->value("role", std::string{}) == "user") {
      std::string text;
      for (const auto& part : it->value("content", json::array())) {
        if (part.is_object() && part.contains("text") && part["text"].is_string()) {
          text += part["text"].get<std::string>();
        }
      }
      return text;
    }
  }
  return {};
}

json usage() {
  return {{"input_tokens", 20},
          {"input_tokens_details", {{"cached_tokens", 4}}},
          {"output_tokens", 7},
          {"output_tokens_details", {{"reasoning_tokens", 2}}},
          {"total_tokens", 27}};
}

class event_list {
public:
  event_list(std::string response_id, std::string model)
      : id_(std::move(response_id)),
        model_(std::move(model)) {
    json response = {{"id", id_},
                     {"object", "response"},
                     {"created_at", now_seconds()},
                     {"status", "in_progress"},
                     {"model", model_},
                     {"output", json::array()}};
    add({{"type", "response.created"}, {"response", response}});
  }

  void add(json event) {
    event["sequence_number"] = sequence_++;
    events_.push_back(event.dump());
  }

  void item(int index, const json& done_item, const std::vector<json>& between = {}) {
    json added = done_item;
    added["status"] = "in_progress";
    if (added.contains("arguments") && added["arguments"].is_string()) {
      added["arguments"] = "";
    }
    if (added.contains("result")) {
      added.erase("result");
    }
    if (added.value("type", std::string{}) == "message") {
      added["content"] = json::array();
    }
    add({{"type", "response.output_item.added"}, {"output_index", index}, {"item", added}});
    for (const auto& event : between) {
      add(event);
    }
    add({{"type", "response.output_item.done"}, {"output_index", index}, {"item", done_item}});
  }

  std::vector<std::string> completed() {
    json response = {{"id", id_},
                     {"object", "response"},
                     {"created_at", now_seconds()},
                     {"status", "completed"},
                     {"model", model_},
                     {"output", json::array()},
                     {"usage", usage()}};
    add({{"type", "response.completed"}, {"response", response}});
    return std::move(events_);
  }

  const std::string& id() const { return id_; }

private:
  std::string id_;
  std::string model_;
  int sequence_ = 0;
  std::vector<std::string> events_;
};

std::vector<std::string> text_turn(event_list& events, const std::string& text) {
  const auto item_id = "msg_" + events.id();
  json message = {
    {"id", item_id},
    {"type", "message"},
    {"role", "assistant"},
    {"status", "completed"},
    {"content", {{{"type", "output_text"}, {"text", text}, {"annotations", json::array()}}}}};
  const auto half = text.size() / 2;
  events.item(0, message,
              {{{"type", "response.output_text.delta"},
                {"item_id", item_id},
                {"output_index", 0},
                {"content_index", 0},
                {"delta", text.substr(0, half)}},
               {{"type", "response.output_text.delta"},
                {"item_id", item_id},
                {"output_index", 0},
                {"content_index", 0},
                {"delta", text.substr(half)}}});
  return events.completed();
}

} // namespace

const char* const fake_png_base64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg"
  "==";

bool is_media_path(const std::string& path) {
  return path == "/backend-api/files" || path.rfind("/backend-api/files/", 0) == 0
         || path == "/backend-api/transcribe" || path.rfind("/backend-api/codex/images/", 0) == 0
         || path.rfind("/__blob/", 0) == 0;
}

bool media_needs_auth(const std::string& path) {
  return path.rfind("/__blob/", 0) != 0;
}

media_reply handle_media(media_state& state, const std::string& method, const std::string& path,
                         const std::string& content_type, const std::string& body,
                         const std::string& account_id, uint16_t port) {
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  if (method == "POST" && path == "/backend-api/files") {
    auto request = json::parse(body, nullptr, false);
    if (!request.is_object() || !request.contains("file_name")) {
      return json_answer(400, {{"error",
                                {{"message", "file_name is required"},
                                 {"type", "invalid_request_error"},
                                 {"code", "invalid_request"}}}});
    }
    const auto id = "file_fake" + std::to_string(++state.sequence);
    state.files[id] = {account_id, request.value("file_name", std::string{}),
                       request.value("file_size", int64_t{0}), -1};
    return json_answer(200,
                       {{"file_id", id}, {"upload_url", base + "/__blob/" + id + "?sig=fake"}});
  }
  if (method == "PUT" && path.rfind("/__blob/", 0) == 0) {
    auto it = state.files.find(path.substr(8));
    if (it == state.files.end()) {
      return not_found("unknown upload URL");
    }
    it->second.uploaded_bytes = static_cast<int64_t>(body.size());
    return {201, {}, {}};
  }
  const std::string files_prefix = "/backend-api/files/";
  if (method == "POST" && path.rfind(files_prefix, 0) == 0 && path.size() > files_prefix.size() + 9
      && path.compare(path.size() - 9, 9, "/uploaded") == 0) {
    const auto id = path.substr(files_prefix.size(), path.size() - files_prefix.size() - 9);
    auto it = state.files.find(id);
    if (it == state.files.end() || it->second.owner != account_id) {
      return not_found("No file " + id + " for this account.");
    }
    if (it->second.uploaded_bytes < 0) {
      return json_answer(200, {{"status", "error"}, {"error_message", "no bytes were uploaded"}});
    }
    return json_answer(200, {{"status", "success"},
                             {"download_url", base + "/__blob/" + id},
                             {"file_name", it->second.name},
                             {"mime_type", "application/octet-stream"}});
  }
  if (method == "POST" && path == "/backend-api/transcribe") {
    auto fields = form_fields(content_type, body);
    auto file = fields.find("file");
    if (content_type.find("multipart/form-data") == std::string::npos || file == fields.end()) {
      return json_answer(400, {{"error",
                                {{"message", "a multipart file is required"},
                                 {"type", "invalid_request_error"},
                                 {"code", "invalid_request"}}}});
    }
    auto model = fields.count("model") != 0 ? fields["model"].second : std::string{"none"};
    json answer = {{"text", "transcript of " + file->second.first + " ("
                              + std::to_string(file->second.second.size()) + " bytes, model "
                              + model + ")"}};
    if (fields.count("language") != 0) {
      answer["language"] = fields["language"].second;
    }
    return json_answer(200, answer);
  }
  if (method == "POST" && path.rfind("/backend-api/codex/images/", 0) == 0) {
    return json_answer(
      200, {{"created", now_seconds()}, {"data", json::array({{{"b64_json", fake_png_base64}}})}});
  }
  return json_answer(404, {{"detail", "Not Found"}});
}

namespace {

/// `call <name> with {json}` names the arguments; plain `call <name>` sends the prompt as query.
json scripted_arguments(const std::string& prompt, const std::string& name) {
  const auto marker = "call " + name + " with ";
  const auto at = prompt.find(marker);
  if (at != std::string::npos) {
    auto given = json::parse(prompt.substr(at + marker.size()), nullptr, false);
    if (!given.is_discarded() && given.is_object()) {
      return given;
    }
  }
  return {{"query", prompt}};
}

/// A function tool the client declared, directly or inside a namespace (`space`).
struct callable {
  std::string name;
  std::string space;
};

void collect_functions(const json& tools, const std::string& space, std::vector<callable>& out) {
  for (const auto& tool : tools) {
    if (!tool.is_object()) {
      continue;
    }
    const auto type = tool.value("type", std::string{});
    const auto name = tool.value("name", std::string{});
    if (type == "function" && !name.empty()) {
      out.push_back({name, space});
    } else if (type == "namespace") {
      collect_functions(tool.value("tools", json::array()), name, out);
    }
  }
}

/// The name the prompt calls `function` by (`call <name>`, or `call <namespace>__<name>`), if any.
std::optional<std::string> asked_name(const std::string& prompt, const callable& function) {
  // Codex calls a namespaced tool `<namespace>__<name>` (e.g. mcp__server__tool).
  for (const auto& name : {function.space + "__" + function.name, function.name}) {
    const auto at = prompt.find("call " + name);
    const auto end = at + 5 + name.size();
    if (at != std::string::npos && (end == prompt.size() || prompt[end] == ' ')) {
      return name;
    }
  }
  return std::nullopt;
}

/// The name after `call ` when the client offers a `tool_search` tool and has not searched yet.
std::optional<std::string> undeclared_call(const std::string& prompt, const json& tools,
                                           const json& input) {
  const auto searchable = std::any_of(tools.begin(), tools.end(), [](const json& tool) {
    return tool.is_object() && tool.value("type", std::string{}) == "tool_search";
  });
  const auto searched = std::any_of(input.begin(), input.end(), [](const json& item) {
    return item.is_object() && item.value("type", std::string{}) == "tool_search_output";
  });
  const auto at = prompt.find("call ");
  if (!searchable || searched || at == std::string::npos) {
    return std::nullopt;
  }
  const auto name = prompt.substr(at + 5, prompt.find(' ', at + 5) - at - 5);
  return name.empty() ? std::nullopt : std::optional{name};
}

} // namespace

std::optional<std::vector<std::string>>
scripted_turn(const json& body, const std::string& response_id, const std::string& model) {
  const auto tools = body.value("tools", json::array());
  const auto input = body.value("input", json::array());
  event_list events{response_id, model};
  const auto prompt = last_user_text(input);
  for (const auto& tool : tools) {
    if (tool.is_object() && tool.value("type", std::string{}) == "image_generation") {
      events.item(0, {{"id", "ig_" + response_id},
                      {"type", "image_generation_call"},
                      {"status", "completed"},
                      {"revised_prompt", "a fake image of " + prompt},
                      {"result", fake_png_base64}});
      return events.completed();
    }
  }
  if (input.is_array() && !input.empty() && input.back().is_object()
      && input.back().value("type", std::string{}) == "function_call_output") {
    const auto& output = input.back()["output"];
    return text_turn(events, "tool result: "
                               + (output.is_string() ? output.get<std::string>() : output.dump()));
  }
  std::vector<callable> functions;
  collect_functions(tools, {}, functions);
  for (const auto& item : input) {
    if (item.is_object() && item.value("type", std::string{}) == "tool_search_output") {
      collect_functions(item.value("tools", json::array()), {}, functions);
    }
  }
  int index = 0;
  for (const auto& function : functions) {
    const auto asked = asked_name(prompt, function);
    if (!asked) {
      continue;
    }
    const auto call_id = "call_" + response_id + "_" + std::to_string(index);
    const auto item_id = "fc_" + response_id + "_" + std::to_string(index);
    const auto arguments = scripted_arguments(prompt, *asked).dump();
    const auto half = arguments.size() / 2;
    json call = {{"id", item_id},      {"type", "function_call"}, {"status", "completed"},
                 {"call_id", call_id}, {"name", function.name},   {"arguments", arguments}};
    if (!function.space.empty()) {
      call["namespace"] = function.space;
    }
    events.item(index, call,
                {{{"type", "response.function_call_arguments.delta"},
                  {"item_id", item_id},
                  {"output_index", index},
                  {"delta", arguments.substr(0, half)}},
                 {{"type", "response.function_call_arguments.delta"},
                  {"item_id", item_id},
                  {"output_index", index},
                  {"delta", arguments.substr(half)}},
                 {{"type", "response.function_call_arguments.done"},
                  {"item_id", item_id},
                  {"output_index", index},
                  {"arguments", arguments}}});
    ++index;
  }
  if (index > 0) {
    return events.completed();
  }
  if (auto wanted = undeclared_call(prompt, tools, input)) {
    // The client defers some tools (Codex: MCP tools) behind its own tool search: ask it first.
    std::string query = *wanted;
    std::replace(query.begin(), query.end(), '_', ' ');
    events.item(0, {{"id", "ts_" + response_id},
                    {"type", "tool_search_call"},
                    {"status", "completed"},
                    {"call_id", "search_" + response_id},
                    {"execution", "client"},
                    {"arguments", {{"query", query}, {"limit", 8}}}});
    return events.completed();
  }
  return std::nullopt;
}

} // namespace cxp::test
