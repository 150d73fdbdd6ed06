// Files, transcription and the native media routes. File bytes and audio pass through memory
// on their way upstream and are never stored; only file metadata is remembered (file_registry).
#include <algorithm>

#include "common/encoding.hpp"
#include "edge/routes/codex/codex_auth.hpp"
#include "edge/routes/v1/multipart.hpp"
#include "edge/routes/v1/v1_adapter.hpp"
#include "edge/routes/v1/v1_context.hpp"

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

constexpr std::string_view transcription_model = "gpt-4o-transcribe";
constexpr int max_finalize_tries = 5;
constexpr size_t max_transcription_bytes = 25u << 20;
constexpr auto upload_timeout = std::chrono::seconds{120};

int64_t unix_now(const v1_state_ptr& state) {
  return std::chrono::duration_cast<std::chrono::seconds>(
           state->runtime.services.clock.now().time_since_epoch())
    .count();
}

/// Upstream ids are used in paths: only plain ids are accepted.
bool is_plain_id(std::string_view id) {
  return !id.empty() && id.size() <= 200 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '-';
  });
}

/// One proxied call whose answer goes to `done` (not to the client).
void call_upstream(const v1_state_ptr& state, const exchange_ptr& ex, const authenticated_key& key,
                   const std::string& model, const std::string& session_key_hash,
                   std::string upstream_path, std::string body, std::string content_type,
                   std::function<void(http_response)> done) {
  turn_request request;
  bind_key(request, key);
  request.model = model;
  request.session_key_hash = session_key_hash;
  request.seed = session_key_hash.empty() ? new_uuid() : session_key_hash;
  request.admission = upstream_path == "/transcribe" ? domain::admission_class::audio_transcription
                                                     : domain::admission_class::file_upload;
  request.upstream_path = std::move(upstream_path);
  request.route = actors::route_class::responses;
  request.content_type = content_type == "application/json" ? std::string{} : content_type;
  request.body = body;
  request.ex = make_capturing_exchange(ex, std::move(body), std::move(content_type),
                                       ex->route_name(), std::move(done));
  run_proxy_turn(state->runtime, std::move(request));
}

/// The three upstream steps of `POST /v1/files` (codex-protocol §9): create, PUT the bytes to
/// the upload URL, finalize — create and finalize on the same account (one session key).
struct file_upload : std::enable_shared_from_this<file_upload> {
  v1_state_ptr state;
  exchange_ptr ex;
  authenticated_key key;
  std::string model;
  std::string session_key_hash;
  file_record record;
  std::string bytes;
  std::string content_type;

  void create() {
    json body = {
      {"file_name", record.filename}, {"file_size", record.bytes}, {"use_case", "codex"}};
    call_upstream(state, ex, key, model, session_key_hash, "/files", body.dump(),
                  "application/json",
                  [self = shared_from_this()](http_response answer) { self->on_created(answer); });
  }

  void on_created(const http_response& answer) {
    if (answer.result() != http::status::ok) {
      return ex->respond(openai_error_reply(answer));
    }
    auto parsed = json::parse(answer.body(), nullptr, false);
    if (!parsed.is_object() || !parsed.contains("file_id") || !parsed["file_id"].is_string()
        || !parsed.contains("upload_url") || !parsed["upload_url"].is_string()
        || !is_plain_id(parsed["file_id"].get<std::string>())) {
      return ex->respond_error(errc::upstream_request_failed);
    }
    record.id = parsed["file_id"].get<std::string>();
    actors::upstream_request put;
    put.method = http::verb::put;
    put.url = parsed["upload_url"].get<std::string>();
    put.headers = {
      {"x-ms-blob-type", "BlockBlob"},
      {"content-type", content_type.empty() ? "application/octet-stream" : content_type}};
    put.body = std::move(bytes);
    put.timeouts.first_byte = upload_timeout;
    put.timeouts.idle = upload_timeout;
    state->runtime.upstream->fetch(
      std::move(put), [self = shared_from_this()](std::optional<actors::upstream_failure> failure,
                                                  actors::upstream_reply reply) {
        if (failure || reply.head.status >= 300) {
          return self->ex->respond_error(errc::upstream_request_failed);
        }
        self->finalize(1);
      });
  }

  void finalize(int attempt) {
    call_upstream(state, ex, key, model, session_key_hash, "/files/" + record.id + "/uploaded",
                  "{}", "application/json",
                  [self = shared_from_this(), attempt](http_response answer) {
                    self->on_finalized(answer, attempt);
                  });
  }

  void on_finalized(const http_response& answer, int attempt) {
    if (answer.result() != http::status::ok) {
      return ex->respond(openai_error_reply(answer));
    }
    auto parsed = json::parse(answer.body(), nullptr, false);
    const auto status = parsed.is_object() ? parsed.value("status", std::string{}) : "";
    // "retry" means the upstream is still processing; each try is a full round trip.
    if (status == "retry" && attempt < max_finalize_tries) {
      return finalize(attempt + 1);
    }
    if (status != "success") {
      return ex->respond_error(errc::upstream_request_failed);
    }
    state->files.put(record);
    ex->respond_json(http::status::ok, to_openai_file(record));
  }
};

std::optional<std::vector<form_part>> multipart_of(const exchange_ptr& ex) {
  const auto content_type = std::string{ex->request()[http::field::content_type]};
  auto parts = parse_multipart(content_type, ex->request().body());
  if (!parts) {
    ex->respond_error(errc::invalid_request, "request body must be multipart/form-data");
  }
  return parts;
}

/// Field names that carry over from a /v1 transcription form to the backend's.
bool is_forwarded_transcription_field(const std::string& name) {
  return name == "language" || name == "prompt" || name == "keywords" || name == "keywords[]"
         || name == "languages" || name == "languages[]";
}

} // namespace

void handle_file_upload(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, false, [state, ex](authenticated_key key) {
    auto parts = multipart_of(ex);
    if (!parts) {
      return;
    }
    const auto* file = find_part(*parts, "file");
    if (file == nullptr || file->filename.empty()) {
      return ex->respond_error(errc::invalid_request, "a file part with a filename is required",
                               "file");
    }
    const auto* purpose = find_part(*parts, "purpose");
    auto upload = std::make_shared<file_upload>();
    upload->state = state;
    upload->ex = ex;
    upload->key = key;
    upload->session_key_hash = hash_session_key("file-upload:" + new_uuid(), key);
    upload->record.pool_id = key.key.pool_id;
    upload->record.api_key_id = key.key.id;
    upload->record.session_key_hash = upload->session_key_hash;
    upload->record.filename = file->filename;
    upload->record.purpose = purpose != nullptr ? purpose->data : "user_data";
    upload->record.bytes = static_cast<int64_t>(file->data.size());
    upload->record.created_at = unix_now(state);
    upload->bytes = file->data;
    upload->content_type = file->content_type;
    with_pool_model(state, ex, key, [upload](std::string model) {
      upload->model = std::move(model);
      upload->create();
    });
  });
}

void handle_file_list(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, false, [state, ex](authenticated_key key) {
    json data = json::array();
    for (const auto& record : state->files.list(key.key.pool_id)) {
      data.push_back(to_openai_file(record));
    }
    ex->respond_json(http::status::ok,
                     {{"object", "list"}, {"data", std::move(data)}, {"has_more", false}});
  });
}

void handle_file_get(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, false, [state, ex](authenticated_key key) {
    auto record = state->files.find(std::string{ex->param("id")}, key.key.pool_id);
    if (!record) {
      return ex->respond_error(errc::not_found, "No such file.", "file_id");
    }
    ex->respond_json(http::status::ok, to_openai_file(*record));
  });
}

void handle_file_unsupported(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, false, [state, ex](authenticated_key key) {
    if (!state->files.find(std::string{ex->param("id")}, key.key.pool_id)) {
      return ex->respond_error(errc::not_found, "No such file.", "file_id");
    }
    ex->respond_error(errc::unsupported_endpoint,
                      "File contents and deletion are not supported by this gateway.");
  });
}

void handle_transcription(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, true, false, [state, ex](authenticated_key key) {
    auto parts = multipart_of(ex);
    if (!parts) {
      return;
    }
    const auto* file = find_part(*parts, "file");
    if (file == nullptr || file->data.empty()) {
      return ex->respond_error(errc::invalid_request, "an audio file is required", "file");
    }
    if (file->data.size() > max_transcription_bytes) {
      return ex->respond_error(errc::payload_too_large, "audio files are limited to 25 MiB",
                               "file");
    }
    std::string format = "json";
    std::vector<form_part> forwarded;
    forwarded.push_back(
      {"file", file->filename.empty() ? "audio.wav" : file->filename,
       file->content_type.empty() ? "application/octet-stream" : file->content_type, file->data});
    forwarded.push_back({"model", "", "", std::string{transcription_model}});
    for (const auto& part : *parts) {
      if (part.name == "response_format") {
        format = part.data;
      } else if (part.name == "stream" && part.data != "false") {
        return ex->respond_error(errc::unsupported_parameter, "Unsupported parameter: stream",
                                 "stream");
      } else if (is_forwarded_transcription_field(part.name) && !part.data.empty()) {
        forwarded.push_back({part.name, "", "", part.data});
      }
    }
    if (format != "json" && format != "text" && format != "verbose_json") {
      return ex->respond_error(errc::unsupported_parameter,
                               "Unsupported parameter: response_format", "response_format");
    }
    const auto boundary = "cxp-" + new_uuid();
    auto body = build_multipart(forwarded, boundary);
    with_pool_model(
      state, ex, key,
      [state, ex, key, format, boundary, body = std::move(body)](std::string model) {
        call_upstream(
          state, ex, key, model, {}, "/transcribe", body,
          "multipart/form-data; boundary=" + boundary, [ex, format](http_response answer) {
            if (answer.result() != http::status::ok) {
              return ex->respond(openai_error_reply(answer));
            }
            auto parsed = json::parse(answer.body(), nullptr, false);
            if (!parsed.is_object() || !parsed.contains("text") || !parsed["text"].is_string()) {
              return ex->respond_error(errc::upstream_request_failed);
            }
            if (format == "text") {
              http_response text{http::status::ok, ex->request().version()};
              text.set(http::field::content_type, "text/plain; charset=utf-8");
              text.body() = parsed["text"].get<std::string>();
              return ex->respond(std::move(text));
            }
            json out = {{"text", parsed["text"]}};
            if (format == "verbose_json") {
              out["task"] = "transcribe";
              out["language"] = parsed.value("language", std::string{});
              out["segments"] = json::array();
            }
            ex->respond_json(http::status::ok, out);
          });
      });
  });
}

void handle_native_files(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, false, false, [state, ex](authenticated_key key) {
    auto body = json::parse(ex->request().body(), nullptr, false);
    if (!body.is_object() || !body.contains("file_name") || !body["file_name"].is_string()) {
      return ex->respond_error(errc::invalid_request,
                               "request body must be JSON metadata with file_name", "file_name");
    }
    auto record = std::make_shared<file_record>();
    record->pool_id = key.key.pool_id;
    record->api_key_id = key.key.id;
    record->session_key_hash = hash_session_key("file-upload:" + new_uuid(), key);
    record->filename = body["file_name"].get<std::string>();
    record->purpose = body.value("use_case", std::string{"codex"});
    record->bytes = body.value("file_size", int64_t{0});
    record->created_at = unix_now(state);
    with_pool_model(state, ex, key, [state, ex, key, record](std::string model) {
      call_upstream(state, ex, key, model, record->session_key_hash, "/files", ex->request().body(),
                    "application/json", [state, ex, record](http_response answer) {
                      auto parsed = json::parse(answer.body(), nullptr, false);
                      if (answer.result() == http::status::ok && parsed.is_object()
                          && parsed.contains("file_id") && parsed["file_id"].is_string()) {
                        record->id = parsed["file_id"].get<std::string>();
                        state->files.put(*record);
                      }
                      ex->respond(std::move(answer));
                    });
    });
  });
}

void handle_native_file_uploaded(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, false, false, [state, ex](authenticated_key key) {
    const auto id = std::string{ex->param("id")};
    if (!is_plain_id(id)) {
      return ex->respond_error(errc::invalid_request, "invalid file id", "file_id");
    }
    auto record = state->files.find(id, key.key.pool_id);
    const auto session = record ? record->session_key_hash : std::string{};
    with_pool_model(state, ex, key, [state, ex, key, id, session](std::string model) {
      call_upstream(state, ex, key, model, session, "/files/" + id + "/uploaded",
                    ex->request().body().empty() ? "{}" : ex->request().body(), "application/json",
                    [ex](http_response answer) { ex->respond(std::move(answer)); });
    });
  });
}

void handle_native_transcribe(const v1_state_ptr& state, const exchange_ptr& ex) {
  with_v1_key(state, ex, false, false, [state, ex](authenticated_key key) {
    const auto content_type = std::string{ex->request()[http::field::content_type]};
    if (multipart_boundary(content_type).empty()) {
      return ex->respond_error(errc::invalid_request, "request body must be multipart/form-data");
    }
    with_pool_model(state, ex, key, [state, ex, key, content_type](std::string model) {
      call_upstream(state, ex, key, model, {}, "/transcribe", ex->request().body(), content_type,
                    [ex](http_response answer) { ex->respond(std::move(answer)); });
    });
  });
}

void handle_native_images(const v1_state_ptr& state, const exchange_ptr& ex,
                          const std::string& upstream_path) {
  with_v1_key(state, ex, false, true, [state, ex, upstream_path](authenticated_key key) {
    const auto content_type = std::string{ex->request()[http::field::content_type]};
    with_pool_model(state, ex, key,
                    [state, ex, key, content_type, upstream_path](std::string model) {
                      call_upstream(state, ex, key, model, {}, upstream_path, ex->request().body(),
                                    content_type.empty() ? "application/json" : content_type,
                                    [ex](http_response answer) { ex->respond(std::move(answer)); });
                    });
  });
}

} // namespace cxp::edge::v1
