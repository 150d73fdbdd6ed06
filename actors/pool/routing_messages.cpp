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

} // namespace cxp::actors
