// Public `POST /v1/responses` bodies, as edge/routes/v1/v1_turns.cpp handles them: parsed with
// `parse_untrusted`, field types checked, then normalized for the Codex backend
// (edge/routes/v1/responses_request.cpp) and serialised as the route sends them.

#include "common/json_input.hpp"
#include "edge/routes/v1/responses_request.hpp"
#include "edge/routes/v1/v1_fields.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json body;
  if (cxp::parse_untrusted(cxp::fuzz::text_of(data, size), body)) {
    return 0;
  }
  if (cxp::check_fields(body, cxp::edge::v1::responses_body_fields).problem) {
    return 0;
  }
  cxp::fuzz::keep(body.value("stream", false));
  cxp::edge::v1::normalized_request normalized;
  if (auto error = cxp::edge::v1::normalize_responses_request(body, normalized)) {
    cxp::fuzz::keep(error->message);
    return 0;
  }
  cxp::fuzz::require(normalized.body.is_object(), "the normalized body is an object");
  cxp::fuzz::require(normalized.body.value("stream", false) == true, "upstream always streams");
  cxp::fuzz::keep(normalized.body.dump());
  return 0;
}
