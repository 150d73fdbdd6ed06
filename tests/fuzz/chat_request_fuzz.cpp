// `POST /v1/chat/completions` bodies, as edge/routes/v1/v1_turns.cpp handles them: parsed with
// `parse_untrusted`, field types checked, translated into a public
// Responses request (edge/routes/v1/chat_request.cpp), which is then normalized for the Codex
// backend and serialised, as the route does.

#include "common/json_input.hpp"
#include "edge/routes/v1/chat_request.hpp"
#include "edge/routes/v1/responses_request.hpp"
#include "edge/routes/v1/v1_fields.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json body;
  if (cxp::parse_untrusted(cxp::fuzz::text_of(data, size), body)) {
    return 0;
  }
  if (cxp::check_fields(body, cxp::edge::v1::chat_body_fields).problem) {
    return 0;
  }
  cxp::edge::v1::chat_translation chat;
  if (auto error = cxp::edge::v1::chat_to_responses(body, chat)) {
    cxp::fuzz::keep(error->message);
    return 0;
  }
  cxp::fuzz::keep(chat.responses.value("model", std::string{}));
  cxp::edge::v1::normalized_request normalized;
  if (auto error = cxp::edge::v1::normalize_responses_request(chat.responses, normalized)) {
    cxp::fuzz::keep(error->message);
    return 0;
  }
  cxp::fuzz::keep(normalized.body.dump());
  return 0;
}
