#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

#include "common/errc.hpp"

namespace cxp::edge {

/// What the outside world sees for an `errc`: the HTTP status, the OpenAI `type` and a public
/// message. Internal error context never appears here.
struct public_error {
  boost::beast::http::status status;
  std::string_view type;
  std::string_view message;
};

/// The one table from code to public error; every enumerator has an entry (a unit test walks them).
public_error lookup_error(errc code);

/// The OpenAI error envelope {"error":{"message","type","code","param"}} with exactly these
/// values: the one place its shape is written. Callers add members (`fields`, `resets_at`) to
/// the inner object afterwards.
nlohmann::json error_envelope(std::string message, std::string_view type, nlohmann::json code,
                              nlohmann::json param = nullptr);

/// The envelope for an upstream `error` object relayed on the v1 routes: its string `message`
/// and `code` (else "upstream request failed" and "upstream_error"), type server_error.
nlohmann::json upstream_error_envelope(const nlohmann::json& error);

/// Renders the OpenAI error envelope {"error":{"message","type","code","param"}}. `message`
/// overrides the table's text with a vetted, secret-free one; `param` names the offending field.
nlohmann::json render_error(errc code, std::optional<std::string> message = std::nullopt,
                            std::optional<std::string> param = std::nullopt);

/// The websocket form of an error (codex-protocol §3.5): `{"type":"error","status":<http
/// status>,"error":{message,type,code,param}}`, one text frame.
nlohmann::json render_websocket_error(errc code, std::optional<std::string> message = std::nullopt,
                                      std::optional<std::string> param = std::nullopt);

} // namespace cxp::edge
