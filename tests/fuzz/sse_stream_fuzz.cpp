// Upstream server-sent events and the /v1 response translators: the upstream bytes go through
// the incremental SSE parser in reads of any size (actors/upstream/sse_parser.cpp), each event's
// data through `parse_untrusted`, then through every translator the /v1 routes use
// (public Responses, chat.completion chunks, images) and the quota readers the proxy applies
// to `codex.rate_limits` and error events. The whole input is also read as the JSON answer an
// upstream may send instead of a stream.

#include <chrono>
#include <memory>
#include <vector>

#include "actors/upstream/sse_parser.hpp"
#include "common/json_input.hpp"
#include "domain/routing/quota.hpp"
#include "edge/routes/v1/chat_response.hpp"
#include "edge/routes/v1/images.hpp"
#include "edge/routes/v1/responses_events.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using nlohmann::json;
namespace v1 = cxp::edge::v1;

std::vector<std::unique_ptr<v1::stream_translator>> translators() {
  std::vector<std::unique_ptr<v1::stream_translator>> all;
  all.push_back(std::make_unique<v1::public_responses_translator>());
  all.push_back(std::make_unique<v1::chat_stream_translator>("gpt-5.5", true, 1767225600));
  all.push_back(std::make_unique<v1::chat_stream_translator>("gpt-5.5", false, 1767225600));
  all.push_back(std::make_unique<v1::images_translator>(1767225600));
  return all;
}

void inspect_quota(const json& event, cxp::time_point now) {
  const auto type = event.find("type");
  if (type == event.end() || !type->is_string()) {
    return;
  }
  if (*type == "codex.rate_limits") {
    auto windows = cxp::domain::parse_rate_limits_event(event, now);
    windows = cxp::domain::merge_windows({}, windows);
    cxp::fuzz::keep(cxp::domain::capacity_score(windows, now));
    cxp::fuzz::keep(cxp::domain::exhausted_until(windows, now));
  } else if (*type == "error" || *type == "response.failed") {
    cxp::fuzz::keep(cxp::domain::parse_usage_limit_reset(event, now));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto now = cxp::time_point{std::chrono::seconds{1767225600}};
  const size_t read_size = 1 + data[0] % 128;
  const auto stream = cxp::fuzz::text_of(data + 1, size - 1);

  auto all = translators();
  cxp::actors::sse_parser parser;
  cxp::actors::sse_parser small_parser{256}; // the oversized-event path
  std::string relayed;
  for (size_t at = 0; at < stream.size(); at += read_size) {
    const auto chunk = stream.substr(at, read_size);
    cxp::fuzz::keep(small_parser.feed(chunk).size());
    for (auto& event : parser.feed(chunk)) {
      json parsed;
      if (cxp::parse_untrusted(event.data, parsed) || !parsed.is_object()) {
        continue;
      }
      inspect_quota(parsed, now);
      for (auto& translator : all) {
        relayed += v1::translate_event(*translator, parsed);
      }
    }
  }
  for (auto& translator : all) {
    relayed += v1::finish_translation(*translator);
    if (const auto reply = v1::collect_translation(*translator)) {
      cxp::fuzz::keep(reply->body.dump());
    }
  }
  cxp::fuzz::keep(relayed.size());
  cxp::fuzz::keep(small_parser.oversized_events());

  // An upstream that answers JSON where a stream was expected.
  json answer;
  if (!cxp::parse_untrusted(stream, answer) && answer.is_object()) {
    for (auto& translator : all) {
      if (const auto reply = v1::translate_response_object(*translator, answer)) {
        cxp::fuzz::keep(reply->dump());
      }
    }
  }
  return 0;
}
