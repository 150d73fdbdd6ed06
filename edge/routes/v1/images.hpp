#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edge/routes/v1/multipart.hpp"
#include "edge/routes/v1/responses_events.hpp"
#include "edge/routes/v1/stream_translator.hpp"
#include "edge/routes/v1/v1_error.hpp"

namespace cxp::edge::v1 {

/// The image tool options a client asked for (`model`, `size`, `quality`, `background`,
/// `input_fidelity`, `output_format`), with `size`/`quality` defaulting to `auto`.
struct image_options {
  nlohmann::json tool = nlohmann::json::object();
  std::string prompt;
};

/// Reads `POST /v1/images/generations` JSON (prompt required; `n` must be 1; `stream`,
/// `partial_images` and `response_format: url` are unsupported: images are returned inline).
std::optional<v1_error> image_generation_options(const nlohmann::json& request, image_options& out);

/// Reads `POST /v1/images/edits` multipart fields (prompt and at least one `image`/`image[]`
/// part required), and the input images as data URLs (the `mask`, if any, last).
std::optional<v1_error> image_edit_options(const std::vector<form_part>& parts, image_options& out,
                                           std::vector<std::string>& images, bool& has_mask);

/// The Responses request for an image call (notes §1.4): one user message with the prompt
/// (and the images, the mask last with an explanatory sentence), a single `image_generation`
/// tool, `tool_choice: {type: image_generation}`, on `model` (a chat model of the pool).
nlohmann::json image_responses_request(const image_options& options, const std::string& model,
                                       const std::vector<std::string>& images, bool has_mask);

/// Collects `image_generation_call` results into the Images API answer
/// `{created, data:[{b64_json, revised_prompt?}], usage?}`; never streams.
class images_translator : public stream_translator {
public:
  explicit images_translator(int64_t created) : created_(created) {}

  std::string on_event(const nlohmann::json& event) override;
  std::string on_end() override { return {}; }
  collected_reply collected() const override;
  nlohmann::json from_response_object(const nlohmann::json& response) const override;

private:
  responses_accumulator accumulator_;
  int64_t created_;
};

} // namespace cxp::edge::v1
