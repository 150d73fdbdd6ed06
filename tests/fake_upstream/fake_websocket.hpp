#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

namespace cxp::test {

using ws_upgrade_request = boost::beast::http::request<boost::beast::http::string_body>;

/// How the fake answers one `response.create` (what the HTTP path would have answered).
struct ws_turn_reply {
  int status = 200;                                         ///< non-200 becomes an error frame
  std::vector<std::pair<std::string, std::string>> headers; ///< quota headers of the answer
  std::string body;                                         ///< JSON error body when status != 200
  std::vector<std::string> events;                          ///< server frames (JSON text)
  bool drop = false;                                        ///< close the socket without answering
  int close_after_events = -1; ///< close the socket after K events; -1 = never
  int delay_ms = 0;            ///< wait before the first frame
  int event_interval_ms = 0;   ///< wait between frames (a slow turn)
};

/// The account behaviour behind the websocket route, supplied by `fake_upstream` so both
/// transports share auth, quota and scripted failures.
struct ws_backend {
  /// Checks the upgrade's credentials: the account id, or the HTTP status and JSON body that
  /// refuse the upgrade.
  std::function<std::pair<std::string, std::optional<std::pair<int, std::string>>>(
    const ws_upgrade_request&)>
    authenticate;
  /// Answers one turn; `body` is the Responses body (`type`, `previous_response_id` and
  /// `generate` removed) and the credentials are the upgrade's.
  std::function<ws_turn_reply(const ws_upgrade_request&, const nlohmann::json& body)> turn;
};

/// One upstream websocket connection as the fake saw it.
struct ws_connection_record {
  int64_t id = 0;         ///< 1, 2, … in accept order
  std::string account_id; ///< the `chatgpt-account-id` of the upgrade
  bool open = true;
  int overlapping_creates = 0; ///< `response.create` frames that arrived during another turn
  int processed_acks = 0;      ///< `response.processed` frames
  /// One entry per `response.create`: `{"response_id","previous_response_id","generate",
  /// "input_text"}` (input_text = the text of every input item, concatenated).
  std::vector<nlohmann::json> turns;
};

nlohmann::json to_json(const ws_connection_record& record);

/// The websocket half of the fake Codex backend (codex-protocol.md §14.3): `GET
/// /backend-api/codex/responses` upgrades (after `openai-beta: responses_websockets=…` and auth
/// checks), serialises `response.create` frames per connection, answers `generate:false` with an
/// empty response, keeps response ids per connection (`previous_response_not_found` otherwise),
/// relays the backend's events as text frames and its errors as `{"type":"error","status",…}`.
/// Thread-safe.
class fake_websocket_hub : public std::enable_shared_from_this<fake_websocket_hub> {
public:
  explicit fake_websocket_hub(ws_backend backend) : backend_(std::move(backend)) {}

  /// Takes over a socket whose upgrade request has been read.
  void accept(boost::asio::ip::tcp::socket socket, ws_upgrade_request request);

  /// Every connection so far, in accept order.
  std::vector<ws_connection_record> connections() const;

  /// Closes every open connection (1001), as a backend restart would.
  void close_all();

  /// Internal: sessions report through these.
  int64_t open_connection(const std::string& account_id);
  void update(int64_t id, const std::function<void(ws_connection_record&)>& change);
  void track(int64_t id, std::function<void()> closer);
  const ws_backend& backend() const { return backend_; }

private:
  ws_backend backend_;
  mutable std::mutex mutex_;
  std::vector<ws_connection_record> records_;
  std::vector<std::pair<int64_t, std::function<void()>>> closers_;
};

} // namespace cxp::test
