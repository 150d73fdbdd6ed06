#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "common/database_url.hpp"
#include "common/log.hpp"
#include "common/secret.hpp"

namespace cxp {

/// The process environment as plain data; only `main` builds it from the real environment.
using env_map = std::map<std::string, std::string>;

enum class node_role { all, web, worker, scheduler };

std::string_view to_string(node_role role);

/// A versioned 32-byte AES key, e.g. CODEX_POOLER_UPSTREAM_SECRET_KEY with its _VERSION.
struct versioned_key {
  secret<std::string> key; ///< 32 raw bytes
  std::string version = "v1";
};

struct cluster_peer {
  std::string host;
  uint16_t port = 0;
};

/// Everything the process needs before it can reach the database. Built once by
/// `load_boot_config` and passed by const reference to the components that need a part of it.
struct boot_config {
  database_url database;
  std::string database_url_text; ///< as given, for child processes; may hold a password
  uint16_t port = 4000;
  std::string bind_address = "0.0.0.0";
  node_role role = node_role::all;
  std::string data_dir = "data";
  size_t pool_size = 10;
  log::level log_level = log::level::info;
  std::chrono::milliseconds shutdown_grace{25'000};

  /// Missing secrets are filled from (or generated into) `<data_dir>/secrets.json` on a single
  /// SQLite node; with PostgreSQL every node must share them, so they are required.
  std::optional<secret<std::string>> secret_key_base;
  std::optional<versioned_key> upstream_secret_key;
  /// Older upstream keys still needed to decrypt rows during a rotation
  /// (CODEX_POOLER_UPSTREAM_SECRET_KEY_PREVIOUS = "version:key,version:key").
  std::vector<versioned_key> upstream_previous_keys;
  std::optional<versioned_key> totp_encryption_key;

  std::string upstream_base_url = "https://chatgpt.com/backend-api";
  std::string oauth_token_url = "https://auth.openai.com/oauth/token";
  /// The OAuth issuer the onboarding flows (browser sign-in, device code, invites) talk to
  /// (CODEX_POOLER_OAUTH_ISSUER_URL, no trailing slash): authorize, token and device endpoints
  /// all hang off it, so tests point every flow at a fake.
  std::string oauth_issuer_url = "https://auth.openai.com";

  std::string node_name;
  std::string dns_cluster_query;
  std::vector<cluster_peer> cluster_peers;
  uint16_t cluster_port = 4370;
  /// Websocket session ownership lease (codex-notes §6.3): its TTL and how often the owner
  /// renews it (CODEX_POOLER_SESSION_LEASE_TTL_MS / _RENEW_MS; renew must be below the TTL).
  std::chrono::milliseconds session_lease_ttl{45'000};
  std::chrono::milliseconds session_lease_renewal{15'000};
  /// Upstream account ownership lease (CODEX_POOLER_ACCOUNT_LEASE_TTL_MS): renewed every third of
  /// it; a node silent for this long loses its accounts to the live nodes.
  std::chrono::milliseconds account_lease_ttl{15'000};
  /// Safety nets for changes written straight to the database (admin API changes are announced
  /// to every node at once): how often settings caches poll the settings revision, and how often
  /// a websocket re-checks its key (CODEX_POOLER_SETTINGS_POLL_MS / _KEY_RECHECK_MS).
  std::chrono::milliseconds settings_poll_interval{2'000};
  std::chrono::milliseconds key_recheck_interval{2'000};

  /// Jobs: worker threads on `worker` and `all` nodes (CODEX_POOLER_JOB_WORKERS, 0 = none), how
  /// often an idle worker looks for due jobs (CODEX_POOLER_JOB_POLL_MS) and the TTL of the
  /// cluster's one scheduler lease (CODEX_POOLER_SCHEDULER_LEASE_TTL_MS; renewed every third).
  size_t job_workers = 2;
  std::chrono::milliseconds job_poll_interval{1'000};
  std::chrono::milliseconds scheduler_lease_ttl{30'000};
  /// Overrides every job kind's schedule interval and the claim timeout of scheduled runs
  /// (CODEX_POOLER_JOB_EVERY_MS / _TIMEOUT_MS): for tests and demos that cannot wait minutes.
  std::optional<std::chrono::milliseconds> job_every;
  std::optional<std::chrono::milliseconds> job_timeout;

  std::string admin_ui_dir; ///< built admin UI assets; empty = the default next to the binary

  bool requires_shared_secrets() const { return database.kind == database_kind::postgres; }
};

/// Parses and validates every boot-time variable. On failure the error's context is one line that
/// names the variable, e.g. "PORT: must be a number from 0 to 65535 (got \"abc\")".
caf::expected<boot_config> load_boot_config(const env_map& env);

/// Decodes a 32-byte key given raw (32 bytes), as base64 or as 64 hex digits.
std::optional<std::string> decode_key_32(const std::string& text);

} // namespace cxp
