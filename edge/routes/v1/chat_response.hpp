#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "edge/routes/v1/responses_events.hpp"
#include "edge/routes/v1/stream_translator.hpp"

namespace cxp::edge::v1 {

/// `finish_reason` of a final Responses object: `tool_calls` when it called a tool, `length`
/// for `incomplete` with `max_output_tokens` (or any other incomplete reason but
/// `content_filter`, which stays `content_filter`), else `stop`.
std::string finish_reason_of(const nlohmann::json& response);

/// Chat usage from Responses usage: prompt/completion/total tokens with cached and reasoning
/// token details. Null when the response carried none.
nlohmann::json chat_usage_of(const nlohmann::json& response);

/// A `chat.completion` object from a final Responses object: the assistant text (null when
/// there is none), function and custom tool calls, finish_reason and usage.
nlohmann::json chat_completion_from(const nlohmann::json& response, const std::string& model);

/// Responses events → `chat.completion.chunk` SSE (notes §5.2): a role chunk before the first
/// visible delta, text deltas, tool-call deltas (id/name first, then argument fragments, by
/// tool index), a final chunk with `finish_reason`, a usage chunk when `include_usage`, then
/// `data: [DONE]`. A failure (or a stream that ends without a terminal) becomes one
/// `data: {"error":…}` chunk and no `[DONE]`.
class chat_stream_translator : public stream_translator {
public:
  chat_stream_translator(std::string model, bool include_usage, int64_t created)
      : model_(std::move(model)),
        include_usage_(include_usage),
        created_(created) {}

  std::string on_event(const nlohmann::json& event) override;
  std::string on_end() override;
  collected_reply collected() const override;
  nlohmann::json from_response_object(const nlohmann::json& response) const override;

private:
  struct tool_state {
    int index = 0;
    bool arguments_sent = false;
  };

  std::string chunk(nlohmann::json delta, nlohmann::json finish_reason = nullptr);
  std::string ensure_role();
  std::string tool_started(const nlohmann::json& item);
  std::string finished();
  std::string failed();
  std::string id() const;

  std::string model_;
  bool include_usage_;
  int64_t created_;
  responses_accumulator accumulator_;
  bool role_sent_ = false;
  bool ended_ = false;
  std::map<std::string, bool> text_streamed_; ///< message item id -> deltas seen
  std::map<std::string, tool_state> tools_;   ///< tool item id -> state
  std::map<int64_t, std::string> item_at_;    ///< output_index -> item id
};

} // namespace cxp::edge::v1
