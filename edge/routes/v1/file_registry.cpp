#include "edge/routes/v1/file_registry.hpp"

#include <algorithm>

namespace cxp::edge::v1 {

namespace {

using nlohmann::json;

void collect_file_ids(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    if (node.value("type", std::string{}) == "input_file" && node.contains("file_id")
        && node["file_id"].is_string()) {
      out.push_back(node["file_id"].get<std::string>());
    }
    for (const auto& [name, value] : node.items()) {
      if (value.is_structured()) {
        collect_file_ids(value, out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& value : node) {
      collect_file_ids(value, out);
    }
  }
}

} // namespace

json to_openai_file(const file_record& record) {
  return {{"id", record.id},
          {"object", "file"},
          {"bytes", record.bytes},
          {"created_at", record.created_at},
          {"filename", record.filename},
          {"purpose", record.purpose},
          {"status", "processed"},
          {"status_details", nullptr}};
}

void file_registry::expire(std::chrono::steady_clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
  }
}

void file_registry::put(file_record record) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock{mutex_};
  expire(now);
  auto id = record.id;
  entries_[id] = {std::move(record), now + ttl_};
}

std::optional<file_record> file_registry::find(const std::string& id, const std::string& pool_id) {
  std::lock_guard lock{mutex_};
  expire(std::chrono::steady_clock::now());
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.record.pool_id != pool_id) {
    return std::nullopt;
  }
  return it->second.record;
}

std::vector<file_record> file_registry::list(const std::string& pool_id) {
  std::vector<file_record> out;
  {
    std::lock_guard lock{mutex_};
    expire(std::chrono::steady_clock::now());
    for (const auto& [id, slot] : entries_) {
      if (slot.record.pool_id == pool_id) {
        out.push_back(slot.record);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  return out;
}

std::vector<std::string> referenced_file_ids(const json& responses_body) {
  std::vector<std::string> out;
  if (responses_body.contains("input")) {
    collect_file_ids(responses_body["input"], out);
  }
  return out;
}

} // namespace cxp::edge::v1
