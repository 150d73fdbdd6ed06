#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace cxp::domain {

/// The classes of work a node admits separately (codex-notes §3.1), so a flood of one kind
/// (say, uploads) cannot starve the others.
enum class admission_class : uint8_t {
  proxy_http,
  proxy_stream,
  proxy_compact,
  proxy_websocket,
  file_upload,
  audio_transcription,
  mcp, ///< the operator MCP endpoint
};

inline constexpr std::array all_admission_classes{
  admission_class::proxy_http,    admission_class::proxy_stream,
  admission_class::proxy_compact, admission_class::proxy_websocket,
  admission_class::file_upload,   admission_class::audio_transcription,
  admission_class::mcp,
};

std::string_view to_string(admission_class kind);

/// One class's bulkhead: at most `max_concurrency` running, then up to `queue_limit` waiting
/// (FIFO) for at most `queue_timeout`.
struct bulkhead_limits {
  int64_t max_concurrency = 0;
  int64_t queue_limit = 0;
  std::chrono::milliseconds queue_timeout{0};
};

/// The `gateway.bulkheads` default: `{class: {max_concurrency, queue_limit, queue_timeout_ms}}`.
nlohmann::json default_bulkheads();

/// Checks a `gateway.bulkheads` value (any subset of classes and fields) and answers the whole
/// table with the defaults filled in; the error names the offending class and field.
caf::expected<nlohmann::json> validate_bulkheads(const nlohmann::json& value);

/// The limits of `kind` in a table `validate_bulkheads` accepted.
bulkhead_limits bulkhead_of(const nlohmann::json& table, admission_class kind);

} // namespace cxp::domain
