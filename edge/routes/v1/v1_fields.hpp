#pragma once

#include <array>

#include "common/json_input.hpp"

namespace cxp::edge::v1 {

// The top-level fields of each /v1 body family whose types every later read relies on: a field
// present with another type is a 400 naming it before any translation runs.

inline constexpr std::array<field_rule, 18> responses_body_fields = {
  {{"model", json_kind::string},
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
   {"top_p", json_kind::number}}};

inline constexpr std::array<field_rule, 17> chat_body_fields = {
  {{"model", json_kind::string},
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
   {"metadata", json_kind::object}}};

inline constexpr std::array<field_rule, 9> image_body_fields = {
  {{"model", json_kind::string},
   {"prompt", json_kind::string},
   {"n", json_kind::integer},
   {"size", json_kind::string},
   {"quality", json_kind::string},
   {"response_format", json_kind::string},
   {"background", json_kind::string},
   {"output_format", json_kind::string},
   {"output_compression", json_kind::integer}}};

} // namespace cxp::edge::v1
