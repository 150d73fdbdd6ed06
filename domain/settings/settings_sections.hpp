#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/routing/circuit_breaker.hpp"
#include "domain/settings/bulkheads.hpp"

namespace cxp::domain {

/// Request routing, upstream timeouts and websocket limits (`gateway.*`).
struct gateway_settings {
  std::chrono::milliseconds sse_keepalive_interval{0};
  std::chrono::milliseconds websocket_idle_timeout{0};
  std::chrono::milliseconds websocket_owner_idle_timeout{0};
  int64_t websocket_detached_per_key_limit = 0;
  int64_t websocket_detached_per_account_limit = 0;
  std::chrono::milliseconds upstream_connect_timeout{0};
  std::chrono::milliseconds upstream_first_byte_timeout{0};
  std::chrono::milliseconds upstream_receive_timeout{0};
  circuit_settings circuit;
  std::chrono::seconds demotion{0};
  std::chrono::seconds session_affinity_ttl{0};
  std::array<bulkhead_limits, all_admission_classes.size()> bulkheads{};

  const bulkhead_limits& bulkhead(admission_class kind) const {
    return bulkheads[static_cast<size_t>(kind)];
  }
};

/// Who may connect and how much they may send (`ingress.*`, plus the upload caps that raise the
/// body limit of the upload routes).
struct ingress_settings {
  std::vector<std::string> firewall_allowlist;
  std::vector<std::string> trusted_proxies;
  std::string forwarded_client_ip_source;
  uint64_t max_body_bytes = 0;
  uint64_t max_admin_body_bytes = 0;
  uint64_t max_pre_auth_body_bytes = 0;
  int64_t max_connections = 0;
  int64_t max_connections_per_ip = 0;
  uint64_t max_file_bytes = 0;          ///< files.max_size_bytes
  uint64_t max_transcription_bytes = 0; ///< transcription.max_upload_bytes
};

/// Operator onboarding (`operator.*`).
struct operator_settings {
  std::string login_base_url;
  int64_t invite_ttl_hours = 0;
};

/// The `/metrics` guard (`metrics.*`): the stored digest of the bearer token, when one is set.
struct metrics_settings {
  std::optional<std::string> bearer_token_digest;
};

/// The model catalog and prices (`catalog.*`).
struct catalog_settings {
  std::string pricing_url;
  std::chrono::hours model_retire_after{0};
};

/// What the background jobs keep healthy on idle accounts (`accounts.*`).
struct account_upkeep_settings {
  std::chrono::seconds quota_evidence_max_age{0};
  std::chrono::seconds token_refresh_ahead{0};
  std::chrono::seconds refresh_failure_cooldown{0};
};

/// The operator MCP endpoint (`mcp.*`).
struct mcp_settings {
  bool enabled = false;
};

/// How long history is kept (`retention.*`); zero days keeps it forever.
struct retention_settings {
  int64_t request_log_days = 0;
  int64_t audit_days = 0;
};

/// Every instance setting, parsed once per snapshot into the types its readers use, so no
/// request path looks a setting up by its key.
struct settings_sections {
  gateway_settings gateway;
  ingress_settings ingress;
  operator_settings operators;
  metrics_settings metrics;
  catalog_settings catalog;
  account_upkeep_settings accounts;
  retention_settings retention;
  mcp_settings mcp;
};

class instance_settings;

/// The one place that reads settings by key: it turns a snapshot into its typed sections and,
/// for the registry test, notes every key it read.
class settings_section_reader {
public:
  static settings_sections read(const instance_settings& source,
                                std::vector<std::string>* keys_read = nullptr);

private:
  settings_section_reader(const instance_settings& source, std::vector<std::string>* keys_read)
      : source_(source),
        keys_read_(keys_read) {}

  bool flag(std::string_view key) const;
  int64_t integer(std::string_view key) const;
  std::chrono::milliseconds millis(std::string_view key) const;
  std::chrono::seconds seconds(std::string_view key) const;
  std::string text(std::string_view key) const;
  std::vector<std::string> text_list(std::string_view key) const;
  std::optional<std::string> secret_digest(std::string_view key) const;
  const nlohmann::json& value(std::string_view key) const;

  const instance_settings& source_;
  std::vector<std::string>* keys_read_;
};

} // namespace cxp::domain
