#pragma once

#include <optional>
#include <string>

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

} // namespace cxp::edge::v1
