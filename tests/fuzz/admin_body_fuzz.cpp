// Admin API request bodies: parsed with `parse_untrusted` and refused unless an object, as
// edge/routes/admin_api/admin_http.cpp does, then read by every admin body parser: pools and API
// keys (create and update), the typed field reader the routes share (operators, invites,
// accounts), the settings change set, and the escaping the CLI applies when it prints them.

#include "common/encoding.hpp"
#include "common/json_input.hpp"
#include "domain/admin_input.hpp"
#include "domain/settings/settings_registry.hpp"
#include "edge/routes/admin_api/admin_body.hpp"
#include "edge/routes/admin_api/admin_fields.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using nlohmann::json;
namespace domain = cxp::domain;

void read_fields(const json& body) {
  cxp::edge::admin_body in{body};
  in.reject_unknown({"email", "password", "display_name", "role", "ttl_hours", "pool_ids", "label",
                     "items", "code"});
  in.require("email");
  cxp::fuzz::keep(in.text("email"));
  cxp::fuzz::keep(in.text("password"));
  cxp::fuzz::keep(in.text("display_name"));
  cxp::fuzz::keep(in.integer("ttl_hours", 1, 24 * 30));
  cxp::fuzz::keep(in.text_list("pool_ids"));
  cxp::fuzz::keep(in.has("label"));
  cxp::fuzz::keep(in.value(
    "items", [](const json& v) { return v.is_array() && !v.empty(); }, "must be a list"));
  if (auto error = in.error()) {
    cxp::fuzz::keep(error->code());
  }
}

void read_settings(const json& body) {
  for (const auto& [key, value] : body.items()) {
    const auto* spec = cxp::domain::find_setting(key);
    if (spec == nullptr || value.is_null()) {
      continue;
    }
    if (auto valid = cxp::domain::validate_setting(*spec, value)) {
      cxp::fuzz::keep(valid->dump());
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json body;
  if (cxp::parse_untrusted(cxp::fuzz::text_of(data, size), body) || !body.is_object()) {
    return 0;
  }
  if (auto pool = cxp::edge::parse_pool_fields(body)) {
    cxp::fuzz::keep(pool->name);
    cxp::fuzz::keep(pool->slug);
  } else {
    cxp::fuzz::keep(pool.error().code());
  }
  if (auto key = cxp::edge::parse_api_key_fields(body)) {
    cxp::fuzz::keep(key->display_name);
    cxp::fuzz::keep(key->cleared.size());
  } else {
    cxp::fuzz::keep(key.error().code());
  }
  read_fields(body);
  read_settings(body);
  for (const auto& [key, value] : body.items()) {
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      cxp::fuzz::keep(cxp::domain::display_text_problem(text));
      cxp::fuzz::keep(cxp::domain::clean_display_text(text, 100));
      cxp::fuzz::keep(cxp::escape_controls(text));
    }
    cxp::fuzz::keep(cxp::escape_controls(key, true));
  }
  cxp::fuzz::keep(cxp::printable_json(body));
  return 0;
}
