#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "edge/routes/v1/stream_translator.hpp"

namespace cxp::edge::v1 {

/// A provider error code kept only when it is short and plain (`^[A-Za-z0-9_.-]{1,80}$`),
/// else `upstream_error` (notes §5.3).
std::string sanitize_error_code(const nlohmann::json& code);

/// The terminal state of a Responses stream as it is read event by event: the response object
/// from `response.created`, the output items from `response.output_item.done` (by
/// output_index) and the terminal (`response.completed` — also from `response.done` and typeless
/// terminals —, `response.incomplete`, `response.failed` or `error`).
class responses_accumulator {
public:
  enum class terminal { none, completed, incomplete, failed };

  /// Reads one event; returns its canonical type (`response.done` → `response.completed`).
  std::string add(const nlohmann::json& event);

  terminal state() const { return terminal_; }
  /// The final response object with `output` filled from the items when upstream left it empty.
  nlohmann::json response() const;
  /// The items seen so far, in output order.
  nlohmann::json output() const;
  /// Sanitized `{code, message}` of a failed stream.
  const nlohmann::json& error() const { return error_; }

private:
  nlohmann::json response_ = nlohmann::json::object();
  std::map<int64_t, nlohmann::json> items_;
  int64_t next_index_ = 0;
  terminal terminal_ = terminal::none;
  nlohmann::json error_ = nlohmann::json::object();
};

/// Public Responses for `POST /v1/responses`: drops `codex.*` events, renames successful
/// terminals to `response.completed` (with the collected output), renumbers
/// `sequence_number` from 0, replaces provider error text by a sanitized projection, and ends a
/// stream that lacks a terminal with one synthetic `error` event. Collected, it is the final
/// response object (or a 502 for a failed stream).
class public_responses_translator : public stream_translator {
public:
  std::string on_event(const nlohmann::json& event) override;
  std::string on_end() override;
  collected_reply collected() const override;
  nlohmann::json from_response_object(const nlohmann::json& response) const override;

private:
  responses_accumulator accumulator_;
  int64_t sequence_ = 0;
};

} // namespace cxp::edge::v1
