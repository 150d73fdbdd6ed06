#include "edge/routes/v1/v1_routes.hpp"

#include "common/encoding.hpp"
#include "edge/routes/codex/codex_auth.hpp"
#include "edge/routes/codex/codex_request.hpp"
#include "edge/routes/codex/pool_documents.hpp"
#include "edge/routes/v1/models_document.hpp"
#include "edge/routes/v1/v1_context.hpp"
#include "edge/server/actor_bridge.hpp"
#include "persistence/request_logs/request_log_repository.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;
using v1::v1_state;
using v1::v1_state_ptr;

constexpr auto pool_timeout = std::chrono::seconds{10};
constexpr auto usage_timeout = std::chrono::seconds{10};
constexpr std::string_view default_model = "gpt-5.5";

int64_t unix_now(codex_runtime& runtime) {
  return std::chrono::duration_cast<std::chrono::seconds>(
           runtime.services.clock.now().time_since_epoch())
    .count();
}

void models(const v1_state_ptr& state, const exchange_ptr& ex) {
  v1::with_v1_key(state, ex, true, false, [state, ex](v1::authenticated_key key) {
    with_pool_view(state->runtime, ex, key.key.pool_id,
                   [state, ex, allowed = key.key.policy.allowed_models](actors::pool_view view) {
                     ex->respond_json(
                       http::status::ok,
                       v1::models_document(pool_catalog(view, allowed), unix_now(state->runtime)));
                   });
  });
}

void model(const v1_state_ptr& state, const exchange_ptr& ex) {
  v1::with_v1_key(state, ex, true, false, [state, ex](v1::authenticated_key key) {
    with_pool_view(
      state->runtime, ex, key.key.pool_id,
      [state, ex, allowed = key.key.policy.allowed_models](actors::pool_view view) {
        const auto id = ex->param("id");
        auto document = v1::models_document(pool_catalog(view, allowed), unix_now(state->runtime));
        for (const auto& entry : document["data"]) {
          if (entry["id"] == id) {
            return ex->respond_json(http::status::ok, entry);
          }
        }
        ex->respond_error(errc::not_found, "The model does not exist in this pool.", "model");
      });
  });
}

json key_limits(const domain::api_key_policy& policy) {
  json limits = json::array();
  if (policy.max_requests_per_minute) {
    limits.push_back({{"kind", "requests_per_minute"}, {"limit", *policy.max_requests_per_minute}});
  }
  if (policy.max_tokens_per_day) {
    limits.push_back({{"kind", "tokens_per_day"}, {"limit", *policy.max_tokens_per_day}});
  }
  if (policy.max_tokens_per_week) {
    limits.push_back({{"kind", "tokens_per_week"}, {"limit", *policy.max_tokens_per_week}});
  }
  return limits;
}

json upstream_limits(const json& pool_usage_document) {
  json out = json::array();
  const auto rate = pool_usage_document.value("rate_limit", json::object());
  for (const char* window : {"primary_window", "secondary_window"}) {
    if (rate.contains(window) && rate[window].is_object()) {
      auto entry = rate[window];
      entry["window"] = std::string{window}.substr(0, std::string{window}.find('_'));
      out.push_back(std::move(entry));
    }
  }
  return out;
}

/// Whether the key's cost covers every request that used tokens: priced (all of them), partial,
/// unpriced (none could be), or not_applicable (none used tokens).
std::string_view cost_status(const persistence::key_usage_totals& totals) {
  if (totals.unpriced_count == 0) {
    return totals.priced_count > 0 ? "priced" : "not_applicable";
  }
  return totals.priced_count > 0 ? "partial" : "unpriced";
}

void usage(const v1_state_ptr& state, const exchange_ptr& ex) {
  v1::with_v1_key(state, ex, true, false, [state, ex](v1::authenticated_key key) {
    with_key_pool_view(state->runtime, ex, key, [state, ex, key](actors::pool_view view) {
      // The same pooled quota the Codex usage routes and quota headers report.
      auto pool_document = pool_usage(view, state->runtime.services.clock.now());
      run_db<persistence::key_usage_totals>(
        state->runtime.system, state->runtime.db_pool, usage_timeout,
        [key_id = key.key.id](persistence::database& db) {
          return persistence::request_log_repository{db}.usage_of_key(key_id);
        },
        [ex, key, pool_document](caf::expected<persistence::key_usage_totals> totals) {
          if (!totals) {
            return ex->respond_error(totals.error());
          }
          ex->respond_json(http::status::ok,
                           {{"object", "usage"},
                            {"api_key_id", key.key.id},
                            {"request_count", totals->request_count},
                            {"input_tokens", totals->input_tokens},
                            {"cached_input_tokens", totals->cached_input_tokens},
                            {"output_tokens", totals->output_tokens},
                            {"reasoning_tokens", totals->reasoning_tokens},
                            {"total_tokens", totals->input_tokens + totals->output_tokens},
                            // What the tokens would cost at API prices: each request at
                            // the pricing snapshot in force when it was logged.
                            {"total_cost_micros", totals->cost_micros},
                            {"total_cost_usd", static_cast<double>(totals->cost_micros) / 1e6},
                            {"total_cost_status", cost_status(*totals)},
                            {"priced_request_count", totals->priced_count},
                            {"unpriced_request_count", totals->unpriced_count},
                            {"limits", key_limits(key.key.policy)},
                            {"upstream_limits", upstream_limits(pool_document)},
                            {"pool_quota", pool_document}});
        });
    });
  });
}

void unsupported(const exchange_ptr& ex) {
  const auto method = std::string{ex->request().method_string()};
  ex->respond_error(errc::unsupported_endpoint,
                    "This gateway does not support " + method + " " + ex->route_name()
                      + "; supported: models, responses, chat.completions, files, "
                        "audio.transcriptions, images.");
}

} // namespace

namespace v1 {

std::optional<persistence::pool_row> pool_switch_cache::find(const std::string& pool_id) {
  std::lock_guard lock{mutex_};
  auto it = entries_.find(pool_id);
  if (it == entries_.end() || it->second.expires <= std::chrono::steady_clock::now()) {
    return std::nullopt;
  }
  return it->second.pool;
}

void pool_switch_cache::put(const persistence::pool_row& pool) {
  std::lock_guard lock{mutex_};
  entries_[pool.id] = {pool, std::chrono::steady_clock::now() + ttl_};
}

void respond(const exchange_ptr& ex, const v1_error& error) {
  ex->respond_error(error.code, error.message, error.param);
}

void with_v1_key(const v1_state_ptr& state, const exchange_ptr& ex, bool gated, bool images,
                 std::function<void(authenticated_key)> next) {
  with_key(state->runtime, ex,
           [state, ex, gated, images, next = std::move(next)](authenticated_key key) mutable {
             auto decide = [ex, gated, images, next = std::move(next),
                            key](const persistence::pool_row& pool) {
               if (gated && !pool.v1_compatibility_enabled) {
                 return ex->respond_error(errc::v1_compatibility_disabled);
               }
               if (images && !pool.allow_image_generation) {
                 return ex->respond_error(errc::image_generation_disabled);
               }
               next(key);
             };
             if (auto cached = state->pools.find(key.key.pool_id)) {
               return decide(*cached);
             }
             run_db<persistence::pool_row>(
               state->runtime.system, state->runtime.db_pool, pool_timeout,
               [pool_id = key.key.pool_id](persistence::database& db) {
                 return persistence::pool_repository{db}.get(pool_id);
               },
               [state, ex, decide = std::move(decide)](caf::expected<persistence::pool_row> pool) {
                 if (!pool) {
                   return ex->respond_error(pool.error());
                 }
                 state->pools.put(*pool);
                 decide(*pool);
               });
           });
}

void with_pool_model(const v1_state_ptr& state, const exchange_ptr& ex,
                     const authenticated_key& key, std::function<void(std::string)> next) {
  if (key.key.policy.enforced_model) {
    return next(*key.key.policy.enforced_model);
  }
  with_pool_view(
    state->runtime, ex, key.key.pool_id,
    [next = std::move(next), allowed = key.key.policy.allowed_models](actors::pool_view view) {
      const auto catalog = pool_catalog(view, allowed);
      const auto& models = catalog.value("models", json::array());
      if (!models.empty() && models.front().contains("slug")) {
        return next(models.front()["slug"].get<std::string>());
      }
      next(allowed && !allowed->empty() ? allowed->front() : std::string{default_model});
    });
}

void route_turn(const v1_state_ptr& state, const exchange_ptr& client, const authenticated_key& key,
                const json& body, turn_request& request) {
  bind_key(request, key);
  request.model = body.value("model", std::string{});
  request.service_tier = service_tier_of(body);
  const auto session_key = session_key_of(client->request(), body);
  request.session_key_hash = hash_session_key(session_key, key);
  for (const auto& file_id : referenced_file_ids(body)) {
    if (auto record = state->files.find(file_id, key.key.pool_id)) {
      request.session_key_hash = record->session_key_hash;
      break;
    }
  }
  request.seed = body.contains("prompt_cache_key") && body["prompt_cache_key"].is_string()
                   ? body["prompt_cache_key"].get<std::string>()
                   : (session_key.empty() ? new_uuid() : session_key);
}

} // namespace v1

void add_v1_routes(route_table& routes, codex_runtime& runtime) {
  auto state = std::make_shared<v1_state>(runtime);
  using http::verb;
  routes.add(verb::get, "/v1/models", [state](const exchange_ptr& ex) { models(state, ex); });
  routes.add(verb::get, "/v1/models/:id", [state](const exchange_ptr& ex) { model(state, ex); });
  routes.add(verb::post, "/v1/responses",
             [state](const exchange_ptr& ex) { v1::handle_responses(state, ex); });
  routes.add(verb::post, "/v1/chat/completions",
             [state](const exchange_ptr& ex) { v1::handle_chat(state, ex, true); });
  routes.add(verb::post, "/backend-api/codex/v1/chat/completions",
             [state](const exchange_ptr& ex) { v1::handle_chat(state, ex, false); });
  routes.add(verb::get, "/v1/usage", [state](const exchange_ptr& ex) { usage(state, ex); });
  routes.add(verb::post, "/v1/files",
             [state](const exchange_ptr& ex) { v1::handle_file_upload(state, ex); });
  routes.add(verb::get, "/v1/files",
             [state](const exchange_ptr& ex) { v1::handle_file_list(state, ex); });
  routes.add(verb::get, "/v1/files/:id",
             [state](const exchange_ptr& ex) { v1::handle_file_get(state, ex); });
  routes.add(verb::get, "/v1/files/:id/content",
             [state](const exchange_ptr& ex) { v1::handle_file_unsupported(state, ex); });
  routes.add(verb::delete_, "/v1/files/:id",
             [state](const exchange_ptr& ex) { v1::handle_file_unsupported(state, ex); });
  routes.add(verb::post, "/v1/audio/transcriptions",
             [state](const exchange_ptr& ex) { v1::handle_transcription(state, ex); });
  routes.add(verb::post, "/v1/images/generations",
             [state](const exchange_ptr& ex) { v1::handle_image_generation(state, ex); });
  routes.add(verb::post, "/v1/images/edits",
             [state](const exchange_ptr& ex) { v1::handle_image_edit(state, ex); });
  routes.add(verb::post, "/backend-api/files",
             [state](const exchange_ptr& ex) { v1::handle_native_files(state, ex); });
  routes.add(verb::post, "/backend-api/files/:id/uploaded",
             [state](const exchange_ptr& ex) { v1::handle_native_file_uploaded(state, ex); });
  routes.add(verb::post, "/backend-api/transcribe",
             [state](const exchange_ptr& ex) { v1::handle_native_transcribe(state, ex); });
  for (const std::string kind : {"generations", "edits"}) {
    routes.add(verb::post, "/backend-api/codex/images/" + kind,
               [state, kind](const exchange_ptr& ex) {
                 v1::handle_native_images(state, ex, "/codex/images/" + kind);
               });
  }
  // Routed on purpose so clients get a deterministic OpenAI error rather than a 404.
  const std::vector<std::pair<verb, std::string>> not_served = {
    {verb::post, "/v1/responses/compact"},
    {verb::get, "/v1/responses/:id"},
    {verb::delete_, "/v1/responses/:id"},
    {verb::post, "/v1/responses/:id/cancel"},
    {verb::get, "/v1/responses/:id/input_items"},
    {verb::post, "/v1/embeddings"},
    {verb::post, "/v1/moderations"},
    {verb::post, "/v1/batches"},
    {verb::get, "/v1/batches"},
    {verb::get, "/v1/batches/:id"},
    {verb::post, "/v1/batches/:id/cancel"},
    {verb::post, "/v1/fine_tuning/jobs"},
    {verb::get, "/v1/fine_tuning/jobs"},
    {verb::get, "/v1/fine_tuning/jobs/:id"},
    {verb::post, "/v1/images/variations"},
    {verb::post, "/v1/content_provenance_checks"},
    {verb::post, "/v1/completions"},
    {verb::post, "/v1/audio/speech"},
    {verb::post, "/v1/audio/translations"},
    {verb::post, "/v1/uploads"},
    {verb::get, "/v1/chat/completions"},
    {verb::get, "/v1/chat/completions/:id"},
    {verb::post, "/v1/assistants"},
    {verb::post, "/v1/threads"},
    {verb::post, "/v1/vector_stores"},
    {verb::post, "/v1/conversations"},
    {verb::post, "/v1/realtime/sessions"},
  };
  for (const auto& [method, path] : not_served) {
    routes.add(method, path, [](const exchange_ptr& ex) { unsupported(ex); });
  }
}

} // namespace cxp::edge
