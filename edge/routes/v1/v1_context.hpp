#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/keys/api_key.hpp"
#include "edge/routes/codex/proxy_turn.hpp"
#include "edge/routes/v1/file_registry.hpp"
#include "edge/routes/v1/v1_error.hpp"
#include "persistence/pools/pool_repository.hpp"

namespace cxp::edge::v1 {

/// The pool switches a /v1 request needs, read from `pools` and kept `ttl` per pool so the hot
/// path skips the database (a switch change takes effect within `ttl`).
class pool_switch_cache {
public:
  explicit pool_switch_cache(std::chrono::milliseconds ttl) : ttl_(ttl) {}
  std::optional<persistence::pool_row> find(const std::string& pool_id);
  void put(const persistence::pool_row& pool);

private:
  struct entry {
    persistence::pool_row pool;
    std::chrono::steady_clock::time_point expires;
  };
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// What the /v1 handlers share; lives as long as the routes.
struct v1_state {
  explicit v1_state(codex_runtime& rt) : runtime(rt) {}
  codex_runtime& runtime;
  pool_switch_cache pools{std::chrono::seconds{2}};
  file_registry files{std::chrono::hours{24}};
};

using v1_state_ptr = std::shared_ptr<v1_state>;
using authenticated_key = domain::authenticated_key;

/// Renders a translation error on `ex`.
void respond(const exchange_ptr& ex, const v1_error& error);

/// Authenticates the key, loads its pool's switches and refuses the request when /v1 is off
/// (`gated`) or, for image routes (`images`), when image generation is off.
void with_v1_key(const v1_state_ptr& state, const exchange_ptr& ex, bool gated, bool images,
                 std::function<void(authenticated_key)> next);

/// A model the key's pool serves (its catalog's first model the key may use), for calls that
/// carry none (files, transcription) or need a chat model (images).
void with_pool_model(const v1_state_ptr& state, const exchange_ptr& ex,
                     const authenticated_key& key, std::function<void(std::string)> next);

/// Fills the routing fields of `request` (pool, key, model, session and seed) for a Responses
/// body: the session key comes from the headers or `prompt_cache_key`, or — when the body names
/// an uploaded file — is the file's, which pins the request to the account holding it.
void route_turn(const v1_state_ptr& state, const exchange_ptr& client, const authenticated_key& key,
                const nlohmann::json& body, turn_request& request);

/// Handlers of v1_turns.cpp and v1_media.cpp.
void handle_responses(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_chat(const v1_state_ptr& state, const exchange_ptr& ex, bool gated);
void handle_image_generation(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_image_edit(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_file_upload(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_file_list(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_file_get(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_file_unsupported(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_transcription(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_native_files(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_native_file_uploaded(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_native_transcribe(const v1_state_ptr& state, const exchange_ptr& ex);
void handle_native_images(const v1_state_ptr& state, const exchange_ptr& ex,
                          const std::string& upstream_path);

} // namespace cxp::edge::v1
