#include "edge/routes/v1/models_document.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

constexpr int64_t default_effective_percent = 95;

} // namespace

json models_document(const json& catalog, int64_t created) {
  json data = json::array();
  for (const auto& model : catalog.value("models", json::array())) {
    if (!model.is_object() || !model.contains("slug") || !model["slug"].is_string()) {
      continue;
    }
    const auto slug = model["slug"].get<std::string>();
    const auto levels = model.value("supported_reasoning_levels", json::array());
    json entry = {
      {"id", slug},
      {"object", "model"},
      {"created", created},
      {"owned_by", "codex-pooler"},
      {"permission", json::array()},
      {"input_modalities", model.value("input_modalities", json::array({"text", "image"}))},
      {"display_name", model.value("display_name", slug)},
      {"supports_streaming", true},
      {"supports_tools", true},
      {"supports_reasoning", levels.is_array() && !levels.empty()}};
    if (model.contains("context_window") && model["context_window"].is_number_integer()) {
      const auto percent =
        model.value("effective_context_window_percent", default_effective_percent);
      entry["context_length"] = model["context_window"].get<int64_t>() * percent / 100;
    }
    data.push_back(std::move(entry));
  }
  return {{"object", "list"}, {"data", std::move(data)}};
}

} // namespace cxp::edge::v1
