#pragma once

#include <optional>

#include <boost/beast/http/message.hpp>

#include "common/errc.hpp"

namespace cxp::edge {

/// RFC 9112 §6.3 for a request head, checked before its body is read: a `Transfer-Encoding`
/// whose last coding is not `chunked`, one sent together with `Content-Length`, one on HTTP/1.0,
/// or several `Content-Length` values are `invalid_request`, and the connection must then be
/// closed (its framing cannot be trusted: a request-smuggling primitive behind a lenient proxy).
std::optional<errc> check_framing(const boost::beast::http::request_header<>& head);

} // namespace cxp::edge
