#include "edge/routes/admin_api/admin_body.hpp"

#include <algorithm>

#include "common/errc.hpp"

namespace cxp::edge {

admin_body::admin_body(const nlohmann::json& body) : body_(body) {
  if (!body_.is_object()) {
    fail("body", "must be a JSON object");
  }
}

const nlohmann::json* admin_body::find(const std::string& name) const {
  if (!body_.is_object()) {
    return nullptr;
  }
  auto it = body_.find(name);
  return it == body_.end() ? nullptr : &*it;
}

bool admin_body::has(const std::string& name) const {
  return find(name) != nullptr;
}

std::optional<std::string> admin_body::text(const std::string& name) {
  const auto* found = value(
    name, [](const nlohmann::json& v) { return v.is_string(); }, "must be a string");
  return found == nullptr ? std::nullopt : std::optional<std::string>{found->get<std::string>()};
}

std::optional<std::optional<std::string>> admin_body::nullable_text(const std::string& name) {
  const auto* found = value(
    name, [](const nlohmann::json& v) { return v.is_string() || v.is_null(); },
    "must be a string or null");
  if (found == nullptr) {
    return std::nullopt;
  }
  return found->is_null() ? std::optional<std::string>{}
                          : std::optional<std::string>{found->get<std::string>()};
}

std::optional<int64_t> admin_body::integer(const std::string& name, int64_t min, int64_t max) {
  const auto message =
    "must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
  const auto* found = value(
    name,
    [min, max](const nlohmann::json& v) {
      if (v.is_number_unsigned()) {
        return max >= 0 && v.get<uint64_t>() <= static_cast<uint64_t>(max)
               && static_cast<int64_t>(v.get<uint64_t>()) >= min;
      }
      return v.is_number_integer() && v.get<int64_t>() >= min && v.get<int64_t>() <= max;
    },
    message);
  return found == nullptr ? std::nullopt : std::optional<int64_t>{found->get<int64_t>()};
}

std::optional<std::vector<std::string>> admin_body::text_list(const std::string& name) {
  const auto* found = value(
    name,
    [](const nlohmann::json& v) {
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& item) {
               return item.is_string();
             });
    },
    "must be a list of strings");
  return found == nullptr
           ? std::nullopt
           : std::optional<std::vector<std::string>>{found->get<std::vector<std::string>>()};
}

void admin_body::require(const std::string& name) {
  if (body_.is_object() && !has(name)) {
    fail(name, "is required");
  }
}

void admin_body::reject_unknown(std::initializer_list<std::string_view> known) {
  if (!body_.is_object()) {
    return;
  }
  for (const auto& item : body_.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      fail(item.key(), "is not a known field");
    }
  }
}

void admin_body::fail(const std::string& name, std::string message) {
  errors_.emplace(name, std::move(message));
}

std::optional<caf::error> admin_body::error() const {
  if (errors_.empty()) {
    return std::nullopt;
  }
  return make_validation_error(errors_);
}

} // namespace cxp::edge
