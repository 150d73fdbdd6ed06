#include "actors/pool/routing_messages.hpp"

namespace cxp::actors {

std::string_view to_string(route_class route) {
  switch (route) {
  case route_class::responses:
    return "responses";
  case route_class::compact:
    return "compact";
  }
  return "responses";
}

std::optional<route_class> parse_route_class(std::string_view text) {
  if (text == "responses") {
    return route_class::responses;
  }
  if (text == "compact") {
    return route_class::compact;
  }
  return std::nullopt;
}

std::string_view to_string(attempt_result result) {
  switch (result) {
  case attempt_result::succeeded:
    return "succeeded";
  case attempt_result::usage_limited:
    return "usage_limited";
  case attempt_result::upstream_error:
    return "upstream_error";
  case attempt_result::network_error:
    return "network_error";
  case attempt_result::unauthorized:
    return "unauthorized";
  case attempt_result::rejected:
    return "rejected";
  case attempt_result::cancelled:
    return "cancelled";
  }
  return "upstream_error";
}

} // namespace cxp::actors
