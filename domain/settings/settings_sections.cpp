#include "domain/settings/settings_sections.hpp"

#include "domain/settings/settings_registry.hpp"

namespace cxp::domain {

settings_sections settings_section_reader::read(const instance_settings& source,
                                                std::vector<std::string>* keys_read) {
  const settings_section_reader in{source, keys_read};
  settings_sections out;

  auto& gateway = out.gateway;
  gateway.sse_keepalive_interval = in.millis("gateway.sse_keepalive_interval_ms");
  gateway.websocket_idle_timeout = in.millis("gateway.websocket_idle_timeout_ms");
  gateway.websocket_owner_idle_timeout = in.millis("gateway.websocket_owner_idle_timeout_ms");
  gateway.websocket_detached_per_key_limit = in.integer("gateway.websocket_detached_per_key_limit");
  gateway.websocket_detached_per_account_limit =
    in.integer("gateway.websocket_detached_per_account_limit");
  gateway.upstream_connect_timeout = in.millis("gateway.upstream_connect_timeout_ms");
  gateway.upstream_first_byte_timeout = in.millis("gateway.upstream_first_byte_timeout_ms");
  gateway.upstream_receive_timeout = in.millis("gateway.upstream_receive_timeout_ms");
  gateway.circuit = {static_cast<int32_t>(in.integer("gateway.circuit_failure_threshold")),
                     in.seconds("gateway.circuit_open_seconds"),
                     static_cast<int32_t>(in.integer("gateway.circuit_half_open_probe_limit"))};
  gateway.demotion = in.seconds("gateway.demotion_seconds");
  gateway.session_affinity_ttl = in.seconds("gateway.session_affinity_ttl_seconds");
  const auto& bulkheads = in.value("gateway.bulkheads");
  for (const auto kind : all_admission_classes) {
    gateway.bulkheads[static_cast<size_t>(kind)] = bulkhead_of(bulkheads, kind);
  }

  auto& ingress = out.ingress;
  ingress.firewall_allowlist = in.text_list("ingress.firewall_allowlist");
  ingress.trusted_proxies = in.text_list("ingress.trusted_proxies");
  ingress.forwarded_client_ip_source = in.text("ingress.forwarded_client_ip_source");
  ingress.max_body_bytes = static_cast<uint64_t>(in.integer("ingress.max_body_bytes"));
  ingress.max_admin_body_bytes = static_cast<uint64_t>(in.integer("ingress.max_admin_body_bytes"));
  ingress.max_pre_auth_body_bytes =
    static_cast<uint64_t>(in.integer("ingress.max_pre_auth_body_bytes"));
  ingress.max_connections = in.integer("ingress.max_connections");
  ingress.max_connections_per_ip = in.integer("ingress.max_connections_per_ip");
  ingress.max_file_bytes = static_cast<uint64_t>(in.integer("files.max_size_bytes"));
  ingress.max_transcription_bytes =
    static_cast<uint64_t>(in.integer("transcription.max_upload_bytes"));

  out.operators.login_base_url = in.text("operator.login_base_url");
  out.operators.invite_ttl_hours = in.integer("operator.invite_ttl_hours");

  out.metrics.bearer_token_digest = in.secret_digest("metrics.bearer_token");

  out.catalog.pricing_url = in.text("catalog.openai_pricing_url");
  out.catalog.model_retire_after = std::chrono::hours{in.integer("catalog.model_retire_hours")};

  out.accounts.quota_evidence_max_age = in.seconds("accounts.quota_evidence_max_age_seconds");
  out.accounts.token_refresh_ahead = in.seconds("accounts.token_refresh_ahead_seconds");
  out.accounts.refresh_failure_cooldown = in.seconds("accounts.refresh_failure_cooldown_seconds");

  out.retention.request_log_days = in.integer("retention.request_log_days");
  out.retention.audit_days = in.integer("retention.audit_days");

  out.mcp.enabled = in.flag("mcp.enabled");
  return out;
}

const nlohmann::json& settings_section_reader::value(std::string_view key) const {
  if (keys_read_ != nullptr) {
    keys_read_->emplace_back(key);
  }
  return source_.value_of(key);
}

bool settings_section_reader::flag(std::string_view key) const {
  const auto& found = value(key);
  return found.is_boolean() && found.get<bool>();
}

int64_t settings_section_reader::integer(std::string_view key) const {
  const auto& found = value(key);
  return found.is_number_integer() ? found.get<int64_t>() : 0;
}

std::chrono::milliseconds settings_section_reader::millis(std::string_view key) const {
  return std::chrono::milliseconds{integer(key)};
}

std::chrono::seconds settings_section_reader::seconds(std::string_view key) const {
  return std::chrono::seconds{integer(key)};
}

std::string settings_section_reader::text(std::string_view key) const {
  const auto& found = value(key);
  return found.is_string() ? found.get<std::string>() : std::string{};
}

std::vector<std::string> settings_section_reader::text_list(std::string_view key) const {
  const auto& found = value(key);
  return found.is_array() ? found.get<std::vector<std::string>>() : std::vector<std::string>{};
}

std::optional<std::string> settings_section_reader::secret_digest(std::string_view key) const {
  // A secret's default is null: only a stored digest is a string.
  const auto& found = value(key);
  return found.is_string() ? std::optional{found.get<std::string>()} : std::nullopt;
}

std::vector<std::string> settings_keys_with_a_reader() {
  std::vector<std::string> keys;
  settings_section_reader::read(instance_settings{}, &keys);
  return keys;
}

} // namespace cxp::domain
