#pragma once

#include <string>
#include <string_view>

namespace cxp::edge {

/// Why a committed stream ended without a terminal event of the upstream's own. The code is what
/// the synthetic `response.failed` carries (and the request log records).
enum class cut_reason {
  incomplete, ///< the upstream closed (or broke) the stream before `response.completed`
  idle,       ///< the upstream went quiet for longer than the receive timeout
  malformed,  ///< the upstream sent an event that is not a JSON object with a `type`
};

/// `stream_incomplete`, `stream_idle_timeout` or `upstream_malformed_event`.
std::string_view to_string(cut_reason reason);

/// The SSE text that ends a stream the upstream cut after its first byte was relayed: a
/// `response.failed` event whose `response.error` holds `code` and a message naming `detail`
/// (e.g. the transport failure). `response.failed` is what the Codex CLI acts on over HTTP: it
/// ends the turn with "stream disconnected before completion: <message>" and retries it
/// (codex-protocol §2.2, §10; an `error` event is only read on websockets, and a bare end of
/// stream loses the reason). The /v1 translators read the same event, so /v1 clients get their
/// own error shape from it. Starts with a blank line when `mid_event` (the client holds part of
/// an event), so the partial event is closed off first.
std::string stream_cut_event(cut_reason reason, std::string_view detail, bool mid_event);

/// A cheap shape check of an event's `data:`: a JSON object (first and last non-blank bytes are
/// braces) naming a `"type"`. What fails it is malformed; what passes it is at least framed like
/// a Codex event (the proxy fully parses only the events it reads, see proxy_turn.cpp).
bool looks_like_event(std::string_view data);

/// `looks_like_event`, and the data parses as a JSON object whose `type` is a string.
bool is_event(std::string_view data);

} // namespace cxp::edge
