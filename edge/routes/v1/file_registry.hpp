#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cxp::edge::v1 {

/// What the gateway remembers of an uploaded file: metadata and the (hashed) session key that
/// pins requests naming the file to the account that holds it. Never the bytes.
struct file_record {
  std::string id; ///< the upstream file id
  std::string pool_id;
  std::string api_key_id;
  std::string session_key_hash; ///< pinned to the owning account by the pool's session table
  std::string filename;
  std::string purpose;
  int64_t bytes = 0;
  int64_t created_at = 0; ///< unix seconds
};

/// The OpenAI file object `{id, object:"file", bytes, created_at, filename, purpose, status}`.
nlohmann::json to_openai_file(const file_record& record);

/// File id → record, in memory on this node, each entry kept `ttl` after its upload. Deliberately
/// not persisted: a pin only helps while the pool's session table still maps the hashed key to
/// the account (its own TTL), so after a restart or on another node a file id routes like any
/// request and the upstream answers for unknown files. Shared by the handler threads, hence the
/// mutex (map operations only under it).
class file_registry {
public:
  explicit file_registry(std::chrono::seconds ttl) : ttl_(ttl) {}

  void put(file_record record);
  /// The record of `id` if it belongs to `pool_id` and has not expired.
  std::optional<file_record> find(const std::string& id, const std::string& pool_id);
  /// The pool's live records, newest first.
  std::vector<file_record> list(const std::string& pool_id);

private:
  void expire(std::chrono::steady_clock::time_point now);

  struct entry {
    file_record record;
    std::chrono::steady_clock::time_point expires;
  };
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::map<std::string, entry> entries_;
};

/// The `file_id`s a Responses request names (`input_file` parts, at any depth of `input`).
std::vector<std::string> referenced_file_ids(const nlohmann::json& responses_body);

} // namespace cxp::edge::v1
