#include "domain/settings/bulkheads.hpp"

#include <algorithm>
#include <string>

#include "common/errc.hpp"

namespace cxp::domain {

namespace {

using json = nlohmann::json;

struct field_range {
  const char* name;
  int64_t min;
  int64_t max;
};

constexpr std::array fields{field_range{"max_concurrency", 1, 100'000},
                            field_range{"queue_limit", 0, 1'000'000},
                            field_range{"queue_timeout_ms", 1, 600'000}};

json limits_json(int64_t concurrency, int64_t queue, int64_t timeout_ms) {
  return {
    {"max_concurrency", concurrency}, {"queue_limit", queue}, {"queue_timeout_ms", timeout_ms}};
}

} // namespace

std::string_view to_string(admission_class kind) {
  switch (kind) {
  case admission_class::proxy_http:
    return "proxy_http";
  case admission_class::proxy_stream:
    return "proxy_stream";
  case admission_class::proxy_compact:
    return "proxy_compact";
  case admission_class::proxy_websocket:
    return "proxy_websocket";
  case admission_class::file_upload:
    return "file_upload";
  case admission_class::audio_transcription:
    return "audio_transcription";
  case admission_class::mcp:
    return "mcp";
  }
  return "proxy_http";
}

json default_bulkheads() {
  return {{"proxy_http", limits_json(32, 128, 10'000)},
          {"proxy_stream", limits_json(24, 96, 10'000)},
          {"proxy_compact", limits_json(8, 32, 10'000)},
          {"proxy_websocket", limits_json(24, 96, 10'000)},
          {"file_upload", limits_json(4, 8, 5'000)},
          {"audio_transcription", limits_json(4, 8, 5'000)},
          {"mcp", limits_json(4, 8, 5'000)}};
}

caf::expected<json> validate_bulkheads(const json& value) {
  if (!value.is_object()) {
    return make_error(errc::validation_failed,
                      "must be an object of route classes, each with max_concurrency, "
                      "queue_limit and queue_timeout_ms");
  }
  auto table = default_bulkheads();
  for (const auto& [kind, limits] : value.items()) {
    if (!table.contains(kind)) {
      return make_error(errc::validation_failed, "unknown route class " + kind);
    }
    if (!limits.is_object()) {
      return make_error(errc::validation_failed, kind + " must be an object");
    }
    for (const auto& [field, number] : limits.items()) {
      auto range = std::find_if(fields.begin(), fields.end(),
                                [&name = field](const auto& known) { return name == known.name; });
      if (range == fields.end()) {
        return make_error(errc::validation_failed, kind + ": unknown field " + field);
      }
      if (!number.is_number_integer() || number.get<int64_t>() < range->min
          || number.get<int64_t>() > range->max) {
        return make_error(errc::validation_failed,
                          kind + "." + field + " must be an integer between "
                            + std::to_string(range->min) + " and " + std::to_string(range->max));
      }
      table[kind][field] = number;
    }
  }
  return table;
}

bulkhead_limits bulkhead_of(const json& table, admission_class kind) {
  const auto& limits = table.at(std::string{to_string(kind)});
  return {limits.at("max_concurrency").get<int64_t>(), limits.at("queue_limit").get<int64_t>(),
          std::chrono::milliseconds{limits.at("queue_timeout_ms").get<int64_t>()}};
}

} // namespace cxp::domain
