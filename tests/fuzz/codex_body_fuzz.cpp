// Native Codex request bodies (`/backend-api/codex/responses`, `/compact`, and the JSON of a
// websocket `response.create` frame): the body is parsed with `parse_untrusted` and outlined
// with `parse_untrusted_outline` (both must agree, and agree with nlohmann's own parse), then the
// key policy is applied under every kind of policy and the session key, model and stream flag are
// read the way the route reads them (edge/routes/codex/codex_routes.cpp, websocket_route.cpp).
//
// Input: optional request headers (`name: value` lines) and a blank line, then the body.

#include <array>

#include "common/json_input.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using cxp::domain::api_key_policy;
using nlohmann::json;

std::array<api_key_policy, 4> policies() {
  std::array<api_key_policy, 4> all;
  all[1].enforced_model = "gpt-5.5";
  all[1].enforced_reasoning_effort = "high";
  all[2].allowed_models = std::vector<std::string>{"gpt-5.5", "GPT-5.4-mini"};
  all[2].max_reasoning_effort = "medium";
  all[3].max_reasoning_effort = "xhigh";
  all[3].allowed_models = std::vector<std::string>{};
  return all;
}

cxp::edge::http_request request_with(std::string_view head) {
  cxp::edge::http_request request{boost::beast::http::verb::post, "/backend-api/codex/responses",
                                  11};
  while (!head.empty()) {
    auto [line, rest] = cxp::fuzz::split_at(head, "\n");
    head = rest;
    auto [name, value] = cxp::fuzz::split_at(line, ":");
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (!name.empty() && name.find_first_of("\r\n") == std::string_view::npos
        && value.find_first_of("\r\n") == std::string_view::npos) {
      request.insert(boost::beast::string_view{name.data(), name.size()},
                     boost::beast::string_view{value.data(), value.size()});
    }
  }
  return request;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto all_policies = policies();
  const auto text = cxp::fuzz::text_of(data, size);
  auto [head, body_text] = cxp::fuzz::split_at(text, "\n\n");
  if (body_text.empty()) {
    body_text = head;
    head = {};
  }
  json parsed;
  json outline;
  const bool refused = cxp::parse_untrusted(body_text, parsed).has_value();
  const bool outline_refused =
    cxp::parse_untrusted_outline(body_text, outline, cxp::edge::bulky_body_fields).has_value();
  cxp::fuzz::require(refused == outline_refused, "the outline refuses exactly what a parse does");
  // The fast parser agrees with nlohmann's, to the message and the number types.
  json reference;
  const auto reference_problem = cxp::detail::parse_untrusted_reference(body_text, reference);
  cxp::fuzz::require(refused == reference_problem.has_value(), "fast and nlohmann parses agree");
  cxp::fuzz::require(refused || (parsed == reference && parsed.dump() == reference.dump()),
                     "fast and nlohmann parses build the same document");
  cxp::fuzz::require(
    cxp::object_type_of(body_text).has_value()
      == (!refused && parsed.is_object() && parsed.contains("type") && parsed["type"].is_string()),
    "object_type_of reads what a parse reads");
  if (refused) {
    return 0;
  }
  // The outline is the document with each bulky member emptied to its own type.
  json stubbed = parsed;
  if (stubbed.is_object()) {
    for (const auto name : cxp::edge::bulky_body_fields) {
      if (auto member = stubbed.find(name); member != stubbed.end()) {
        if (member->is_string() || member->is_array() || member->is_object()) {
          *member = member->is_string() ? json("") : json(member->type());
        }
      }
    }
  }
  cxp::fuzz::require(outline == stubbed, "the outline is the document with bulky members empty");
  // The websocket route reads a frame's `type` before anything else.
  if (parsed.is_object() && parsed.contains("type") && parsed["type"].is_string()) {
    cxp::fuzz::keep(parsed["type"].get<std::string>());
  }
  // apply_key_policy and session_key_of take any parsed document; the HTTP route checks the
  // field types first, so both paths are run.
  json checked = parsed;
  if (!cxp::check_fields(checked, cxp::edge::native_body_fields).problem) {
    cxp::fuzz::keep(checked.value("stream", false));
  }
  const auto request = request_with(head);
  for (const auto& policy : all_policies) {
    json body = parsed;
    auto changed = cxp::edge::apply_key_policy(body, policy);
    if (!changed) {
      cxp::fuzz::keep(changed.error().code());
      continue;
    }
    if (*changed) {
      cxp::fuzz::require(body.is_object(), "a changed body is an object");
      cxp::fuzz::keep(body.dump());
    }
    if (policy.enforced_model) {
      cxp::fuzz::require(body["model"] == *policy.enforced_model, "the enforced model is set");
    }
    cxp::fuzz::keep(cxp::edge::session_key_of(request, body));
  }
  const auto headers = cxp::edge::upstream_headers_for(request, "token", "account", true);
  cxp::fuzz::keep(headers.size());
  return 0;
}
