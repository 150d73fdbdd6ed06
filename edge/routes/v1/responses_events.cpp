#include "edge/routes/v1/responses_events.hpp"

#include <algorithm>
#include <cctype>

#include "edge/errors/error_table.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

constexpr size_t max_error_code_length = 80;
constexpr std::string_view upstream_failure_message = "upstream request failed";

} // namespace

std::string translate_event(stream_translator& translator, const json& event) {
  try {
    return translator.on_event(event);
  } catch (const json::exception&) {
    return {};
  }
}

std::string finish_translation(stream_translator& translator) {
  try {
    return translator.on_end();
  } catch (const json::exception&) {
    return {};
  }
}

std::optional<collected_reply> collect_translation(const stream_translator& translator) {
  try {
    return translator.collected();
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<json> translate_response_object(const stream_translator& translator,
                                              const json& response) {
  try {
    return translator.from_response_object(response);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string sse_data(const json& data, const std::string& event_name) {
  std::string out;
  if (!event_name.empty()) {
    out += "event: " + event_name + "\n";
  }
  out += "data: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  return out;
}

std::string sanitize_error_code(const json& code) {
  if (!code.is_string()) {
    return "upstream_error";
  }
  const auto text = code.get<std::string>();
  const bool plain = !text.empty() && text.size() <= max_error_code_length
                     && std::all_of(text.begin(), text.end(), [](unsigned char c) {
                          return std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-';
                        });
  return plain ? text : "upstream_error";
}

std::string responses_accumulator::add(const json& event) {
  auto type = event.value("type", std::string{});
  const auto& response =
    event.contains("response") && event["response"].is_object() ? event["response"] : json{};
  if (type.empty() && response.is_object()) {
    const auto status = response.value("status", std::string{});
    type = status == "incomplete" ? "response.incomplete"
           : status == "failed"   ? "response.failed"
                                  : "response.completed";
  }
  if (type == "response.done") {
    type = response.is_object() && response.value("status", std::string{}) == "incomplete"
             ? "response.incomplete"
             : "response.completed";
  }
  if (type == "response.created" || type == "response.in_progress") {
    if (response.is_object()) {
      response_.update(response);
    }
  } else if (type == "response.output_item.done") {
    if (event.contains("item") && event["item"].is_object()) {
      const auto index = event.contains("output_index") && event["output_index"].is_number_integer()
                           ? event["output_index"].get<int64_t>()
                           : next_index_;
      items_[index] = event["item"];
      next_index_ = std::max(next_index_, index + 1);
    }
  } else if (type == "response.completed" || type == "response.incomplete") {
    if (response.is_object()) {
      response_.update(response);
    }
    terminal_ = type == "response.completed" ? terminal::completed : terminal::incomplete;
  } else if (type == "response.failed" || type == "error") {
    if (response.is_object()) {
      response_.update(response);
    }
    json code;
    if (response.is_object() && response.contains("error") && response["error"].is_object()) {
      code = response["error"].value("code", json{});
    } else if (event.contains("error") && event["error"].is_object()) {
      code = event["error"].value("code", json{});
    } else {
      code = event.value("code", json{});
    }
    terminal_ = terminal::failed;
    error_ = {{"code", sanitize_error_code(code)},
              {"message", std::string{upstream_failure_message}}};
  }
  return type;
}

json responses_accumulator::output() const {
  json items = json::array();
  for (const auto& [index, item] : items_) {
    items.push_back(item);
  }
  return items;
}

json responses_accumulator::response() const {
  json out = response_;
  out["object"] = "response";
  if ((!out.contains("output") || !out["output"].is_array() || out["output"].empty())
      && !items_.empty()) {
    out["output"] = output();
  }
  if (!out.contains("output")) {
    out["output"] = json::array();
  }
  if (terminal_ == terminal::completed) {
    out["status"] = "completed";
  } else if (terminal_ == terminal::incomplete) {
    out["status"] = "incomplete";
  }
  return out;
}

std::string public_responses_translator::on_event(const json& event) {
  const auto raw_type = event.value("type", std::string{});
  if (raw_type.rfind("codex.", 0) == 0) {
    return {};
  }
  const auto type = accumulator_.add(event);
  json out;
  if (type == "response.failed") {
    const auto response = accumulator_.response();
    json projected = {{"object", "response"},
                      {"status", "failed"},
                      {"output", json::array()},
                      {"error", accumulator_.error()}};
    for (const char* field : {"id", "created_at", "model"}) {
      if (response.contains(field)) {
        projected[field] = response[field];
      }
    }
    out = {{"type", type}, {"response", std::move(projected)}};
  } else if (type == "error") {
    out = {{"type", type},
           {"code", accumulator_.error()["code"]},
           {"message", accumulator_.error()["message"]},
           {"param", nullptr}};
  } else {
    out = event;
    out["type"] = type;
    if (type == "response.completed" || type == "response.incomplete") {
      out["response"] = accumulator_.response();
    }
  }
  out["sequence_number"] = sequence_++;
  return sse_data(out, type);
}

std::string public_responses_translator::on_end() {
  if (accumulator_.state() != responses_accumulator::terminal::none) {
    return {};
  }
  return on_event({{"type", "error"}, {"code", "stream_incomplete"}});
}

collected_reply public_responses_translator::collected() const {
  using boost::beast::http::status;
  switch (accumulator_.state()) {
  case responses_accumulator::terminal::completed:
  case responses_accumulator::terminal::incomplete:
    return {status::ok, accumulator_.response()};
  case responses_accumulator::terminal::failed:
    return {status::bad_gateway, upstream_error_envelope(accumulator_.error())};
  case responses_accumulator::terminal::none:
    break;
  }
  return {status::bad_gateway, upstream_error_envelope({{"code", "stream_incomplete"}})};
}

json public_responses_translator::from_response_object(const json& response) const {
  return response;
}

} // namespace cxp::edge::v1
