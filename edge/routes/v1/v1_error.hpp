#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/errc.hpp"

namespace cxp::edge::v1 {

/// A client error found while translating a /v1 request: a stable code, a vetted public message
/// (it may name a field, never echo a value) and the offending parameter.
struct v1_error {
  errc code = errc::invalid_request;
  std::string message;
  std::optional<std::string> param;
};

/// `400 unsupported_parameter` "Unsupported parameter: <name>".
inline v1_error unsupported_parameter(const std::string& name) {
  return {errc::unsupported_parameter, "Unsupported parameter: " + name, name};
}

/// `400 invalid_request` with a message and the parameter it is about.
inline v1_error invalid_parameter(const std::string& name, std::string message) {
  return {errc::invalid_request, std::move(message), name};
}

/// Runs a translation step whose nested reads may meet a value of the wrong type deep inside
/// `field` (the top-level field it walks): such a value is a 400 naming `field`, never an
/// exception escaping the handler.
template <class Step>
std::optional<v1_error> guarded(const std::string& field, Step&& step) {
  try {
    return step();
  } catch (const nlohmann::json::exception&) {
    return invalid_parameter(field, "'" + field + "' contains a value of the wrong type");
  }
}

} // namespace cxp::edge::v1
