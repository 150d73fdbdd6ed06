#include "edge/server/route_table.hpp"

#include "common/log.hpp"

namespace cxp::edge {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > start) {
      segments.emplace_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return segments;
}

bool is_tail(const std::string& segment) {
  return !segment.empty() && segment.front() == '*';
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string, std::less<>>& params) {
  const bool has_tail = !pattern.empty() && is_tail(pattern.back());
  if (has_tail ? path.size() < pattern.size() : pattern.size() != path.size()) {
    return false;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (is_tail(pattern[i])) {
      std::string rest;
      for (size_t j = i; j < path.size(); ++j) {
        rest += (j == i ? "" : "/") + path[j];
      }
      params[pattern[i].substr(1)] = std::move(rest);
      return true;
    }
    if (!pattern[i].empty() && pattern[i].front() == ':') {
      params[pattern[i].substr(1)] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

void route_table::add(http::verb method, std::string pattern, route_handler handler) {
  auto segments = split_path(pattern);
  routes_.push_back({method, std::move(pattern), std::move(segments), std::move(handler)});
}

void route_table::dispatch(const exchange_ptr& ex) const {
  const auto segments = split_path(ex->path());
  bool path_known = false;
  for (const auto& candidate : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    if (!match(candidate.segments, segments, params)) {
      continue;
    }
    path_known = true;
    if (candidate.method != ex->request().method()) {
      continue;
    }
    ex->set_route_name(candidate.pattern);
    ex->set_params(std::move(params));
    // A handler bug must cost one request, never the session or the Asio thread.
    try {
      candidate.handler(ex);
    } catch (const std::exception& failure) {
      log::error("http", "route handler failed",
                 {{"route", candidate.pattern}, {"error", failure.what()}});
      ex->respond_error(errc::internal_error);
    }
    return;
  }
  ex->respond_error(path_known ? errc::method_not_allowed : errc::not_found);
}

} // namespace cxp::edge
