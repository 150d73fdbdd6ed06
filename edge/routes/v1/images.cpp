#include "edge/routes/v1/images.hpp"

#include "common/encoding.hpp"
#include "edge/errors/error_table.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

constexpr std::string_view mask_sentence =
  "The last image is a mask: edit only the areas where it is transparent.";

std::optional<v1_error> read_tool_option(const std::string& name, const json& value,
                                         image_options& out) {
  if (name == "model" || name == "size" || name == "quality" || name == "background"
      || name == "input_fidelity" || name == "output_format" || name == "moderation") {
    if (!value.is_string()) {
      return invalid_parameter(name, name + " must be a string");
    }
    out.tool[name] = value;
    return std::nullopt;
  }
  if (name == "output_compression") {
    if (!value.is_number_integer()) {
      return invalid_parameter(name, name + " must be an integer");
    }
    out.tool[name] = value;
    return std::nullopt;
  }
  if (name == "n") {
    const bool one = value.is_number_integer() && value.get<int64_t>() == 1;
    return one ? std::nullopt : std::optional<v1_error>{unsupported_parameter(name)};
  }
  if (name == "response_format") {
    return value == "b64_json" ? std::nullopt
                               : std::optional<v1_error>{unsupported_parameter(name)};
  }
  if (name == "user") {
    return std::nullopt;
  }
  return unsupported_parameter(name);
}

void default_tool(image_options& out) {
  out.tool["type"] = "image_generation";
  for (const char* field : {"size", "quality"}) {
    if (!out.tool.contains(field)) {
      out.tool[field] = "auto";
    }
  }
}

json image_items(const json& output) {
  json data = json::array();
  for (const auto& item : output) {
    if (!item.is_object() || item.value("type", std::string{}) != "image_generation_call"
        || !item.contains("result") || !item["result"].is_string()) {
      continue;
    }
    json image = {{"b64_json", item["result"]}};
    if (item.contains("revised_prompt") && item["revised_prompt"].is_string()) {
      image["revised_prompt"] = item["revised_prompt"];
    }
    data.push_back(std::move(image));
  }
  return data;
}

} // namespace

std::optional<v1_error> image_generation_options(const json& request, image_options& out) {
  if (!request.is_object()) {
    return v1_error{errc::invalid_request, "request body must be a JSON object", std::nullopt};
  }
  for (const auto& [name, value] : request.items()) {
    if (value.is_null() || name == "prompt") {
      continue;
    }
    if (name == "stream" || name == "partial_images") {
      if (value == false || value == 0) {
        continue;
      }
      return unsupported_parameter(name);
    }
    if (auto error = read_tool_option(name, value, out)) {
      return error;
    }
  }
  if (!request.contains("prompt") || !request["prompt"].is_string() || request["prompt"] == "") {
    return invalid_parameter("prompt", "prompt is required");
  }
  out.prompt = request["prompt"].get<std::string>();
  default_tool(out);
  return std::nullopt;
}

std::optional<v1_error> image_edit_options(const std::vector<form_part>& parts, image_options& out,
                                           std::vector<std::string>& images, bool& has_mask) {
  const form_part* mask = nullptr;
  for (const auto& part : parts) {
    // Everything but the image bytes ends up in JSON text, which must be UTF-8.
    const bool image = part.name == "image" || part.name == "image[]" || part.name == "mask";
    if (!utf8_code_points(part.content_type) || (!image && !utf8_code_points(part.data))) {
      return invalid_parameter(part.name, "'" + part.name + "' must be UTF-8 text");
    }
    if (part.name == "image" || part.name == "image[]") {
      const auto type = part.content_type.empty() ? std::string{"image/png"} : part.content_type;
      images.push_back("data:" + type + ";base64," + to_base64(part.data));
    } else if (part.name == "mask") {
      mask = &part;
    } else if (part.name == "prompt") {
      out.prompt = part.data;
    } else if (part.name == "stream" || part.name == "partial_images") {
      if (part.data != "false" && part.data != "0") {
        return unsupported_parameter(part.name);
      }
    } else {
      json value = part.data;
      if (part.name == "n" || part.name == "output_compression") {
        auto number = json::parse(part.data, nullptr, false);
        value = number.is_number_integer() ? number : json(part.data);
      }
      if (auto error = read_tool_option(part.name, value, out)) {
        return error;
      }
    }
  }
  if (out.prompt.empty()) {
    return invalid_parameter("prompt", "prompt is required");
  }
  if (images.empty()) {
    return invalid_parameter("image", "at least one image is required");
  }
  has_mask = mask != nullptr;
  if (mask != nullptr) {
    const auto type = mask->content_type.empty() ? std::string{"image/png"} : mask->content_type;
    images.push_back("data:" + type + ";base64," + to_base64(mask->data));
  }
  default_tool(out);
  return std::nullopt;
}

json image_responses_request(const image_options& options, const std::string& model,
                             const std::vector<std::string>& images, bool has_mask) {
  json content = json::array({{{"type", "input_text"}, {"text", options.prompt}}});
  for (const auto& url : images) {
    content.push_back({{"type", "input_image"}, {"image_url", url}});
  }
  if (has_mask) {
    content.push_back({{"type", "input_text"}, {"text", std::string{mask_sentence}}});
  }
  return {{"model", model},
          {"input", json::array({{{"type", "message"}, {"role", "user"}, {"content", content}}})},
          {"tools", json::array({options.tool})},
          {"tool_choice", {{"type", "image_generation"}}},
          {"stream", false}};
}

std::string images_translator::on_event(const json& event) {
  accumulator_.add(event);
  return {};
}

json images_translator::from_response_object(const json& response) const {
  json out = {{"created", created_},
              {"data", image_items(response.value("output", json::array()))}};
  if (response.contains("usage") && response["usage"].is_object()) {
    out["usage"] = response["usage"];
  }
  return out;
}

collected_reply images_translator::collected() const {
  using boost::beast::http::status;
  if (accumulator_.state() == responses_accumulator::terminal::completed) {
    auto body = from_response_object(accumulator_.response());
    if (!body["data"].empty()) {
      return {status::ok, std::move(body)};
    }
  }
  auto error =
    accumulator_.state() == responses_accumulator::terminal::failed
      ? accumulator_.error()
      : json{{"code", "image_generation_failed"}, {"message", "the upstream produced no image"}};
  return {status::bad_gateway, upstream_error_envelope(error)};
}

} // namespace cxp::edge::v1
