// Websocket frames in both directions. The low two bits of the first byte pick the mode:
//   0  bytes from a Codex client, read by a server-role Beast stream (masked frames), set up as
//      edge/server/websocket_session.cpp sets it (no permessage-deflate, a message size cap);
//   1  bytes from the upstream, read by a client-role stream, as actors/stream/upstream_socket.cpp;
//   2  the text of one client frame;
//   3  the text of one upstream frame.
// The rest of the first byte is the size of each socket read. Every text message is handled as
// its direction is: a client frame's `type` and the turn it starts (key policy, session key;
// edge/routes/codex/websocket_route.cpp), an upstream frame's verdict and quota evidence
// (actors/stream/turn_policy.cpp, actors/routing/quota.cpp, actors/stream/stream_actor.cpp).

#include <chrono>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "common/json_input.hpp"
#include "domain/routing/quota.hpp"
#include "domain/turn/turn_policy.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using nlohmann::json;

constexpr size_t max_message_bytes = 1u << 20;

void on_client_frame(std::string_view text) {
  json frame;
  if (cxp::parse_untrusted(text, frame)) {
    return;
  }
  const auto type = frame.is_object() && frame.contains("type") && frame["type"].is_string()
                      ? frame["type"].get<std::string>()
                      : std::string{};
  if (type != "response.create") {
    return;
  }
  cxp::domain::api_key_policy policy;
  policy.enforced_reasoning_effort = "low";
  policy.allowed_models = std::vector<std::string>{"gpt-5.5"};
  auto changed = cxp::edge::apply_key_policy(frame, policy);
  if (changed && *changed) {
    cxp::fuzz::keep(frame.dump());
  }
  const cxp::edge::http_request upgrade{http::verb::get, "/backend-api/codex/responses", 11};
  cxp::fuzz::keep(cxp::edge::session_key_of(upgrade, frame));
}

void on_upstream_frame(std::string_view text) {
  namespace domain = cxp::domain;
  const auto now = cxp::time_point{std::chrono::seconds{1767225600}};
  json parsed;
  if (cxp::parse_untrusted(text, parsed)) {
    return;
  }
  const auto frame = domain::read_upstream_frame(parsed);
  for (int state = 0; state < 16; ++state) {
    const domain::attempt_state attempt{(state & 1) != 0, (state & 2) != 0, (state & 4) != 0,
                                        (state & 8) != 0};
    cxp::fuzz::keep(domain::judge(frame, attempt));
  }
  cxp::fuzz::keep(domain::outcome_of(frame));
  std::vector<domain::quota_window> quota;
  if (frame.type == "codex.rate_limits") {
    quota = domain::merge_windows(quota, domain::parse_rate_limits_event(parsed, now));
  }
  if (domain::is_quota_code(frame.code)) {
    cxp::fuzz::require(parsed.is_object(), "a quota frame is an object");
    const auto& error = parsed["error"];
    auto reset = domain::parse_usage_limit_reset(json{{"error", error}}, now);
    if (error.contains("plan_type") && error["plan_type"].is_string()) {
      cxp::fuzz::keep(error["plan_type"].get<std::string>());
    }
    const auto headers = domain::frame_headers(parsed);
    quota = domain::merge_windows(std::move(quota), domain::parse_rate_limit_headers(headers, now));
    const auto active = headers.find("x-codex-active-limit");
    auto evidence =
      domain::usage_limit_of(reset, active == headers.end() ? "" : active->second, quota, now);
    cxp::fuzz::keep(evidence.account_until);
  }
  cxp::fuzz::keep(domain::is_exhausted(quota, now));
}

template <class Handle>
void read_messages(websocket::stream<beast::test::stream&>& ws, Handle handle) {
  beast::flat_buffer buffer;
  for (int messages = 0; messages < 64; ++messages) {
    beast::error_code ec;
    ws.read(buffer, ec);
    if (ec) {
      return;
    }
    cxp::fuzz::require(buffer.size() <= max_message_bytes, "message within read_message_max");
    if (ws.got_text()) {
      handle(beast::buffers_to_string(buffer.data()));
    }
    buffer.consume(buffer.size());
  }
}

void as_server(std::string_view bytes, size_t read_size) {
  boost::asio::io_context ioc;
  beast::test::stream local{ioc};
  beast::test::stream remote{ioc};
  local.connect(remote);
  websocket::stream<beast::test::stream&> ws{local};
  websocket::permessage_deflate deflate;
  deflate.server_enable = false;
  ws.set_option(deflate);
  ws.read_message_max(max_message_bytes);
  http::request<http::empty_body> upgrade{http::verb::get, "/backend-api/codex/responses", 11};
  upgrade.set(http::field::host, "gateway");
  upgrade.set(http::field::upgrade, "websocket");
  upgrade.set(http::field::connection, "upgrade");
  upgrade.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  upgrade.set(http::field::sec_websocket_version, "13");
  beast::error_code ec;
  ws.accept(upgrade, ec);
  cxp::fuzz::require(!ec, "the canned upgrade is accepted");
  local.read_size(read_size);
  local.append(beast::string_view{bytes.data(), bytes.size()});
  local.close_remote();
  read_messages(ws, on_client_frame);
}

void as_client(std::string_view bytes, size_t read_size) {
  boost::asio::io_context ioc;
  beast::test::stream local{ioc};
  beast::test::stream remote{ioc};
  local.connect(remote);
  websocket::stream<beast::test::stream&> ws{local};
  websocket::stream<beast::test::stream&> server{remote};
  ws.read_message_max(max_message_bytes);
  beast::error_code client_ec;
  beast::error_code server_ec;
  server.async_accept([&](beast::error_code ec) { server_ec = ec; });
  ws.async_handshake("chatgpt.com", "/backend-api/codex/responses",
                     [&](beast::error_code ec) { client_ec = ec; });
  ioc.run();
  cxp::fuzz::require(!client_ec && !server_ec, "the in-memory handshake succeeds");
  local.read_size(read_size);
  local.append(beast::string_view{bytes.data(), bytes.size()});
  local.close_remote();
  read_messages(ws, on_upstream_frame);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto rest = cxp::fuzz::text_of(data + 1, size - 1);
  const size_t read_size = 1 + (data[0] >> 2);
  switch (data[0] & 3) {
  case 0:
    as_server(rest, read_size);
    break;
  case 1:
    as_client(rest, read_size);
    break;
  case 2:
    on_client_frame(rest);
    break;
  default:
    on_upstream_frame(rest);
    break;
  }
  return 0;
}
