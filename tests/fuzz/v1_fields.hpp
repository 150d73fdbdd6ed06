#pragma once

#include <initializer_list>

#include "common/json_input.hpp"

// The top-level field rules the routes check before they translate a body: copies of the lists
// in edge/routes/v1/v1_turns.cpp and edge/routes/codex/codex_routes.cpp (file-local there).
// A rule missing here only makes a harness stricter than the route, never more lenient.

namespace cxp::fuzz {

constexpr std::initializer_list<field_rule> responses_fields = {
  {"model", json_kind::string},
  {"stream", json_kind::boolean},
  {"input", json_kind::string_or_array},
  {"instructions", json_kind::string},
  {"tools", json_kind::array},
  {"tool_choice", json_kind::string_or_object},
  {"text", json_kind::object},
  {"reasoning", json_kind::object},
  {"previous_response_id", json_kind::string},
  {"prompt_cache_key", json_kind::string},
  {"metadata", json_kind::object},
  {"parallel_tool_calls", json_kind::boolean},
  {"store", json_kind::boolean},
  {"service_tier", json_kind::string},
  {"max_output_tokens", json_kind::integer},
  {"include", json_kind::array},
  {"temperature", json_kind::number},
  {"top_p", json_kind::number}};

constexpr std::initializer_list<field_rule> chat_fields = {
  {"model", json_kind::string},
  {"stream", json_kind::boolean},
  {"messages", json_kind::array},
  {"tools", json_kind::array},
  {"tool_choice", json_kind::string_or_object},
  {"stream_options", json_kind::object},
  {"response_format", json_kind::object},
  {"reasoning_effort", json_kind::string},
  {"verbosity", json_kind::string},
  {"max_tokens", json_kind::integer},
  {"max_completion_tokens", json_kind::integer},
  {"temperature", json_kind::number},
  {"top_p", json_kind::number},
  {"n", json_kind::integer},
  {"user", json_kind::string},
  {"parallel_tool_calls", json_kind::boolean},
  {"metadata", json_kind::object}};

constexpr std::initializer_list<field_rule> native_fields = {
  {"model", json_kind::string},
  {"stream", json_kind::boolean},
  {"prompt_cache_key", json_kind::string},
  {"reasoning", json_kind::object},
  {"input", json_kind::string_or_array},
  {"instructions", json_kind::string},
  {"tools", json_kind::array},
  {"store", json_kind::boolean},
  {"previous_response_id", json_kind::string}};

} // namespace cxp::fuzz
