#include "common/log.hpp"

#include <atomic>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cxp::log {

namespace {

std::atomic<level> min_level_{level::info};

spdlog::logger& sink() {
  // The timestamp and level come from spdlog (UTC); everything else is a JSON fragment we build,
  // so the whole line is one JSON object.
  static auto logger = [] {
    auto made =
      std::make_shared<spdlog::logger>("cxp", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    made->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                      spdlog::pattern_time_type::utc);
    made->set_level(spdlog::level::trace);
    made->flush_on(spdlog::level::trace);
    return made;
  }();
  return *logger;
}

spdlog::level::level_enum to_spdlog(level lvl) {
  switch (lvl) {
  case level::trace:
    return spdlog::level::trace;
  case level::debug:
    return spdlog::level::debug;
  case level::info:
    return spdlog::level::info;
  case level::warn:
    return spdlog::level::warn;
  case level::error:
    return spdlog::level::err;
  case level::off:
    return spdlog::level::off;
  }
  return spdlog::level::info;
}

} // namespace

bool parse_level(std::string_view text, level& out) {
  static constexpr std::pair<std::string_view, level> names[] = {
    {"trace", level::trace}, {"debug", level::debug}, {"info", level::info},
    {"warn", level::warn},   {"error", level::error}, {"off", level::off}};
  for (const auto& [name, value] : names) {
    if (text == name) {
      out = value;
      return true;
    }
  }
  return false;
}

void init(level min_level) {
  min_level_ = min_level;
  sink();
}

bool enabled(level lvl) {
  return lvl >= min_level_.load() && lvl != level::off;
}

void write(level lvl, std::string_view module, std::string_view message,
           const nlohmann::json& fields) {
  if (!enabled(lvl)) {
    return;
  }
  nlohmann::json line = {{"module", module}, {"msg", message}};
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      line[key] = value;
    }
  }
  auto body = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Drop the outer braces: the pattern already opened the object with ts and level.
  body = body.substr(1, body.size() - 2);
  sink().log(to_spdlog(lvl), spdlog::string_view_t{body});
}

} // namespace cxp::log
