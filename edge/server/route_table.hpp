#pragma once

#include <functional>
#include <string>
#include <vector>

#include "edge/server/exchange.hpp"

namespace cxp::edge {

using route_handler = std::function<void(const exchange_ptr&)>;

/// The only place paths are declared. Patterns are literal segments and ":name" parameters,
/// and may end with "*name", which takes the rest of the path (one or more segments, joined with
/// '/'); the pattern text doubles as the route's metrics label. The first route whose path and
/// method match wins. Unknown paths answer 404 and known
/// paths with another method 405, both in the JSON error envelope.
class route_table {
public:
  void add(http::verb method, std::string pattern, route_handler handler);

  /// Finds the route for the exchange's method and path and runs its handler on this thread.
  void dispatch(const exchange_ptr& ex) const;

private:
  struct route {
    http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    route_handler handler;
  };

  std::vector<route> routes_;
};

} // namespace cxp::edge
