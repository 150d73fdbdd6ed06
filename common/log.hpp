#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace cxp::log {

enum class level { trace, debug, info, warn, error, off };

/// Parses "trace|debug|info|warn|error|off".
bool parse_level(std::string_view text, level& out);

/// Configures the process-wide JSON-lines sink on stdout; call once from `main`.
void init(level min_level);

/// True when a line at `lvl` would be written (to skip building fields for dropped lines).
bool enabled(level lvl);

/// Writes one JSON object per line: {"ts","level","module","msg",...fields}. Fields must already be
/// safe to print: `cxp::secret` values cannot be converted to JSON, keys and accounts are logged as
/// fingerprints, bodies and auth headers never.
void write(level lvl, std::string_view module, std::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view module, std::string_view message,
                  const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::debug, module, message, fields);
}
inline void info(std::string_view module, std::string_view message,
                 const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::info, module, message, fields);
}
inline void warn(std::string_view module, std::string_view message,
                 const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::warn, module, message, fields);
}
inline void error(std::string_view module, std::string_view message,
                  const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::error, module, message, fields);
}

} // namespace cxp::log
