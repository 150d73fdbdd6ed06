#pragma once

#include <optional>
#include <string>

#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

namespace cxp::edge::v1 {

/// The whole answer for a client that did not ask for a stream.
struct collected_reply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  nlohmann::json body;
};

/// Turns the Codex Responses events of one committed upstream stream into what a /v1 client
/// reads. One instance per request; not thread-safe (the proxy calls it from one strand).
class stream_translator {
public:
  virtual ~stream_translator() = default;

  /// One upstream event (its `data:` parsed as JSON); returns the SSE text to send to a
  /// streaming client (possibly empty).
  virtual std::string on_event(const nlohmann::json& event) = 0;

  /// The upstream stream ended (cleanly or not); returns the trailing SSE text for a streaming
  /// client, e.g. `data: [DONE]` or a synthetic error event.
  virtual std::string on_end() = 0;

  /// After `on_end`, for a non-streaming client: the complete JSON answer or an error.
  virtual collected_reply collected() const = 0;

  /// A 200 JSON answer the upstream sent instead of a stream (a Responses object), reshaped.
  virtual nlohmann::json from_response_object(const nlohmann::json& response) const = 0;
};

/// `translator.on_event(event)`, or nothing when the event lacks the shape the translator reads
/// (a wrong-typed member makes its JSON reads throw): such an upstream event is skipped, like
/// one whose data is not JSON, instead of the exception escaping the proxy's stream.
std::string translate_event(stream_translator& translator, const nlohmann::json& event);

/// `translator.on_end()`, or nothing when what it collected lacks the shape it reads.
std::string finish_translation(stream_translator& translator);

/// `translator.collected()`, or nullopt when what it collected lacks the shape it reads (the
/// client then gets `upstream_request_failed`).
std::optional<collected_reply> collect_translation(const stream_translator& translator);

/// `translator.from_response_object(response)`, or nullopt when `response` lacks the shape the
/// translator reads.
std::optional<nlohmann::json> translate_response_object(const stream_translator& translator,
                                                        const nlohmann::json& response);

/// `data: <json>\n\n`, optionally preceded by `event: <name>\n`.
std::string sse_data(const nlohmann::json& data, const std::string& event_name = {});

} // namespace cxp::edge::v1
