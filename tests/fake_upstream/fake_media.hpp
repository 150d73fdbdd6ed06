#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cxp::test {

/// A 1×1 PNG, base64: what the fake "generates" for every image call.
extern const char* const fake_png_base64;

/// Files the fake knows: who created them and how many bytes were PUT.
struct media_state {
  struct file {
    std::string owner; ///< chatgpt account id
    std::string name;
    int64_t declared_size = 0;
    int64_t uploaded_bytes = -1; ///< -1 until the PUT arrives
  };
  std::map<std::string, file> files;
  int64_t sequence = 0;
};

/// The answer to a media request (status, headers, body).
struct media_reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// Whether `path` is one of the media routes: `/backend-api/files`,
/// `/backend-api/files/{id}/uploaded`, `/backend-api/transcribe`,
/// `/backend-api/codex/images/{generations,edits}`, or an upload URL `/__blob/{id}`.
bool is_media_path(const std::string& path);

/// Upload URLs take no authorization (like the real blob store); the rest does.
bool media_needs_auth(const std::string& path);

/// Serves a media request for `account_id` (codex-protocol §9): file create → `{file_id,
/// upload_url}` on this fake; `PUT /__blob/{id}` stores the byte count only; finalize →
/// `{status:"success",…}` only for the account that created the file (404 otherwise, which
/// proves file pinning) and only after the PUT; transcribe (multipart, `file` required) →
/// `{"text":"transcript of <filename> (<n> bytes, model <model>)"}`; native images → one PNG.
media_reply handle_media(media_state& state, const std::string& method, const std::string& path,
                         const std::string& content_type, const std::string& body,
                         const std::string& account_id, uint16_t port);

/// Scripted Responses turns, as full SSE event lists (JSON texts), for requests that ask for
/// them, else nullopt (the ordinary text reply):
/// - an `image_generation` tool → one `image_generation_call` item with the PNG;
/// - a last input item `function_call_output` → text "tool result: <output>";
/// - a last user message containing `call <name>` for declared function tools → one
///   `function_call` per such tool (streamed as argument deltas), arguments
///   `{"query":"<user text>"}`, or the JSON object after `call <name> with ` when there is one;
///   tools found by the client's tool search (`tool_search_output` items, namespaces flattened,
///   called as `<namespace>__<name>`) count as declared;
/// - `call <name>` for an undeclared name when the client offers a `tool_search` tool and has
///   not searched yet → one `tool_search_call` (execution client) for that name.
std::optional<std::vector<std::string>>
scripted_turn(const nlohmann::json& body, const std::string& response_id, const std::string& model);

} // namespace cxp::test
