#include "edge/ingress/http_framing.hpp"

#include <string>
#include <string_view>

#include "common/encoding.hpp"

namespace cxp::edge {

namespace {

namespace http = boost::beast::http;

std::string last_coding(std::string_view list) {
  const auto comma = list.rfind(',');
  const auto last =
    trim_whitespace(comma == std::string_view::npos ? list : list.substr(comma + 1));
  return ascii_lowercase(last.substr(0, last.find(';')));
}

} // namespace

std::optional<errc> check_framing(const http::request_header<>& head) {
  const auto lengths = head.count(http::field::content_length);
  if (lengths > 1) {
    return errc::invalid_request;
  }
  const auto encodings = head.equal_range(http::field::transfer_encoding);
  if (encodings.first == encodings.second) {
    return std::nullopt;
  }
  if (lengths > 0 || head.version() < 11) {
    return errc::invalid_request;
  }
  // Several Transfer-Encoding fields form one list; the last field holds its last coding.
  std::string_view last_field;
  for (auto it = encodings.first; it != encodings.second; ++it) {
    last_field = {it->value().data(), it->value().size()};
  }
  if (last_coding(last_field) != "chunked") {
    return errc::invalid_request;
  }
  return std::nullopt;
}

} // namespace cxp::edge
