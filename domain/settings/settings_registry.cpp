#include "domain/settings/settings_registry.hpp"

#include <algorithm>

#include "common/errc.hpp"

namespace cxp::domain {

namespace {

using json = nlohmann::json;

setting_spec make_spec(std::string key, setting_type type, json fallback, std::string description) {
  setting_spec spec;
  spec.key = std::move(key);
  spec.type = type;
  spec.default_value = std::move(fallback);
  spec.description = std::move(description);
  return spec;
}

setting_spec flag(std::string key, bool fallback, std::string description) {
  return make_spec(std::move(key), setting_type::boolean, fallback, std::move(description));
}

setting_spec integer(std::string key, int64_t fallback, int64_t min, int64_t max,
                     std::string description) {
  auto spec = make_spec(std::move(key), setting_type::integer, fallback, std::move(description));
  spec.min = min;
  spec.max = max;
  return spec;
}

setting_spec text(std::string key, std::string fallback, std::string description,
                  std::vector<std::string> allowed = {}) {
  auto spec =
    make_spec(std::move(key), setting_type::string, std::move(fallback), std::move(description));
  spec.allowed = std::move(allowed);
  return spec;
}

setting_spec list(std::string key, std::vector<std::string> fallback, std::string description) {
  return make_spec(std::move(key), setting_type::string_list, std::move(fallback),
                   std::move(description));
}

setting_spec secret_text(std::string key, secret_storage storage, std::string description) {
  auto spec = make_spec(std::move(key), setting_type::string, nullptr, std::move(description));
  spec.secrecy = storage;
  return spec;
}

constexpr int64_t one_second_ms = 1'000;
constexpr int64_t one_minute_ms = 60'000;
constexpr int64_t one_hour_ms = 3'600'000;
constexpr int64_t mib = 1 << 20;

std::vector<setting_spec> make_registry() {
  return {
    integer("gateway.sse_keepalive_interval_ms", 10'000, 0, one_minute_ms,
            "Interval of downstream SSE keep-alive comments (0 = off)"),
    integer("gateway.websocket_idle_timeout_ms", 30 * one_minute_ms, one_second_ms, one_hour_ms,
            "Downstream websocket idle close"),
    integer("gateway.websocket_owner_idle_timeout_ms", 30 * one_minute_ms, one_second_ms,
            one_hour_ms,
            "How long a session's upstream websocket is kept after the client detaches"),
    integer("gateway.websocket_detached_per_key_limit", 16, 0, 10'000,
            "Upstream websockets kept for detached sessions per Pool API key (least recently "
            "used closed first)"),
    integer("gateway.websocket_detached_per_account_limit", 64, 0, 10'000,
            "Upstream websockets kept for detached sessions per upstream account (least recently "
            "used closed first)"),
    integer("gateway.upstream_connect_timeout_ms", 15'000, 100, 120'000,
            "Upstream TCP/TLS connect timeout"),
    integer("gateway.upstream_first_byte_timeout_ms", 120'000, 1'000, 600'000,
            "Upstream wait for response headers"),
    integer("gateway.upstream_receive_timeout_ms", 300'000, 1'000, 1'800'000,
            "Upstream idle timeout between stream events"),
    integer("gateway.circuit_failure_threshold", 3, 1, 100,
            "Failures that open an account's circuit"),
    integer("gateway.circuit_open_seconds", 60, 1, 3'600, "How long an open circuit stays open"),
    integer("gateway.circuit_half_open_probe_limit", 1, 1, 16, "Concurrent probes while half-open"),
    integer("gateway.demotion_seconds", 60, 0, 3'600,
            "How long an account is demoted after a failure"),
    integer("gateway.session_affinity_ttl_seconds", 86'400, 60, 30 * 86'400,
            "Session pin lifetime"),
    make_spec("gateway.bulkheads", setting_type::bulkhead_table, default_bulkheads(),
              "Per route class admission: max_concurrency, queue_limit, queue_timeout_ms"),
    list("ingress.firewall_allowlist", {},
         "Client IP/CIDR allowlist for runtime routes (empty = off)"),
    list("ingress.trusted_proxies", {}, "Proxies allowed to supply forwarded client IPs"),
    text("ingress.forwarded_client_ip_source", "x_forwarded_for",
         "Which header a trusted proxy names the client in",
         {"peer", "x_forwarded_for", "x_real_ip", "forwarded"}),
    integer("ingress.max_body_bytes", 32 * mib, 1'024, 256 * mib,
            "Largest request body (and websocket message) on the Codex and /v1 routes"),
    integer("ingress.max_admin_body_bytes", 4 * mib, 1'024, 64 * mib,
            "Largest request body on the operator API"),
    integer("ingress.max_pre_auth_body_bytes", 64 * 1'024, 1'024, mib,
            "Largest request body on routes reachable without credentials (login, bootstrap)"),
    integer("ingress.max_connections", 10'000, 1, 1'000'000, "Open client connections per node"),
    integer("ingress.max_connections_per_ip", 512, 1, 1'000'000,
            "Open client connections per peer address (trusted proxies exempt)"),
    integer("files.max_size_bytes", 25 * mib, 1'024, 512 * mib, "Largest file upload"),
    integer("transcription.max_upload_bytes", 25 * mib, 1'024, 512 * mib, "Largest audio upload"),
    text("operator.login_base_url", "http://localhost:4000", "Base URL used in invite links"),
    integer("operator.invite_ttl_hours", 72, 1, 24 * 30, "Invite lifetime"),
    secret_text("metrics.bearer_token", secret_storage::hmac_digest,
                "Bearer token required by /metrics (unset = open)"),
    text("catalog.openai_pricing_url",
         "https://icoretech.github.io/openai-json-pricing/pricing.json",
         "Pricing feed the hourly pricing import downloads"),
    integer("catalog.model_retire_hours", 24 * 7, 1, 24 * 365,
            "A model no account serves is stale, and retired after this many hours"),
    integer("accounts.quota_evidence_max_age_seconds", 300, 30, 24 * 3'600,
            "Quota reconciliation polls the usage of accounts whose evidence is older"),
    integer("accounts.token_refresh_ahead_seconds", 3'600, 60, 7 * 24 * 3'600,
            "The token refresh sweep refreshes tokens expiring within this long"),
    integer("accounts.refresh_failure_cooldown_seconds", 900, 60, 24 * 3'600,
            "After a transient refresh failure the sweep leaves the account alone this long"),
    integer("retention.request_log_days", 90, 0, 10 * 365,
            "Request logs and their attempts older than this are deleted (0 = keep forever)"),
    integer("retention.audit_days", 365, 0, 10 * 365,
            "Audit events older than this are deleted (0 = keep forever)"),
    flag("mcp.enabled", false,
         "Whether the read-only operator MCP endpoint /mcp answers (operators must also switch "
         "their own MCP access on)"),
  };
}

std::string_view to_string(setting_type type) {
  switch (type) {
  case setting_type::boolean:
    return "boolean";
  case setting_type::integer:
    return "integer";
  case setting_type::string:
    return "string";
  case setting_type::string_list:
    return "string_list";
  case setting_type::bulkhead_table:
    return "bulkhead_table";
  }
  return "string";
}

caf::error invalid(std::string message) {
  return make_error(errc::validation_failed, std::move(message));
}

} // namespace

const std::vector<setting_spec>& setting_registry() {
  static const std::vector<setting_spec> registry = make_registry();
  return registry;
}

const setting_spec* find_setting(std::string_view key) {
  const auto& registry = setting_registry();
  auto it = std::find_if(registry.begin(), registry.end(),
                         [key](const auto& spec) { return spec.key == key; });
  return it == registry.end() ? nullptr : &*it;
}

caf::expected<json> validate_setting(const setting_spec& spec, const json& value) {
  switch (spec.type) {
  case setting_type::boolean:
    if (!value.is_boolean()) {
      return invalid("must be true or false");
    }
    return value;
  case setting_type::integer: {
    if (!value.is_number_integer()) {
      return invalid("must be an integer");
    }
    const auto number = value.get<int64_t>();
    if (number < spec.min || number > spec.max) {
      return invalid("must be between " + std::to_string(spec.min) + " and "
                     + std::to_string(spec.max));
    }
    return value;
  }
  case setting_type::string: {
    if (!value.is_string()) {
      return invalid("must be a string");
    }
    if (spec.is_secret() && value.get<std::string>().empty()) {
      return invalid("must not be empty");
    }
    if (!spec.allowed.empty()
        && std::find(spec.allowed.begin(), spec.allowed.end(), value.get<std::string>())
             == spec.allowed.end()) {
      std::string choices;
      for (const auto& choice : spec.allowed) {
        choices += (choices.empty() ? "" : ", ") + choice;
      }
      return invalid("must be one of " + choices);
    }
    return value;
  }
  case setting_type::bulkhead_table:
    return validate_bulkheads(value);
  case setting_type::string_list:
    if (!value.is_array() || !std::all_of(value.begin(), value.end(), [](const json& item) {
          return item.is_string();
        })) {
      return invalid("must be a list of strings");
    }
    return value;
  }
  return invalid("unsupported setting type");
}

instance_settings::instance_settings() : sections_(settings_section_reader::read(*this)) {}

instance_settings instance_settings::from_stored(const std::map<std::string, std::string>& stored) {
  instance_settings snapshot;
  for (const auto& [key, text] : stored) {
    const auto* spec = find_setting(key);
    if (spec == nullptr) {
      continue;
    }
    auto value = json::parse(text, nullptr, false);
    if (value.is_discarded()) {
      continue;
    }
    if (spec->is_secret()) {
      if (value.is_string()) {
        snapshot.stored_.emplace(key, std::move(value));
      }
      continue;
    }
    if (auto valid = validate_setting(*spec, value)) {
      snapshot.stored_.emplace(key, std::move(*valid));
    }
  }
  snapshot.sections_ = settings_section_reader::read(snapshot);
  return snapshot;
}

const json& instance_settings::value_of(std::string_view key) const {
  if (auto it = stored_.find(key); it != stored_.end()) {
    return it->second;
  }
  const auto* spec = find_setting(key);
  // Asking for an unregistered key is a programming error caught by the registry tests.
  static const json null_value;
  return spec != nullptr ? spec->default_value : null_value;
}

bool instance_settings::is_configured(std::string_view key) const {
  return stored_.find(key) != stored_.end();
}

json instance_settings::describe() const {
  json out = json::array();
  for (const auto& spec : setting_registry()) {
    const bool stored = is_configured(spec.key);
    json item = {{"key", spec.key},
                 {"description", spec.description},
                 {"secret", spec.is_secret()},
                 {"source", stored ? "database" : "default"}};
    item["type"] = to_string(spec.type);
    if (spec.is_secret()) {
      item["configured"] = stored;
    } else {
      item["value"] = value_of(spec.key);
      item["default"] = spec.default_value;
    }
    if (spec.type == setting_type::integer) {
      item["min"] = spec.min;
      item["max"] = spec.max;
    }
    if (!spec.allowed.empty()) {
      item["allowed"] = spec.allowed;
    }
    out.push_back(std::move(item));
  }
  return out;
}

} // namespace cxp::domain
