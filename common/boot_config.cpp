#include "common/boot_config.hpp"

#include <charconv>
#include <tuple>

#include "common/encoding.hpp"
#include "common/errc.hpp"

namespace cxp {

namespace {

constexpr size_t min_secret_key_base_bytes = 32;
constexpr size_t key_bytes = 32;

caf::error invalid(const std::string& variable, const std::string& why) {
  return make_error(errc::config_invalid, variable + ": " + why);
}

std::optional<std::string> lookup(const env_map& env, const std::string& name) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

template <class Int>
std::optional<Int> parse_int(const std::string& text, Int min, Int max) {
  Int value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

bool is_http_url(const std::string& text) {
  return (text.starts_with("https://") && text.size() > 8)
         || (text.starts_with("http://") && text.size() > 7);
}

caf::expected<versioned_key> load_key(const env_map& env, const std::string& name,
                                      const std::string& version_name) {
  versioned_key out;
  auto decoded = decode_key_32(*lookup(env, name));
  if (!decoded) {
    return invalid(name, "must be 32 bytes, given raw, as base64 or as 64 hex digits");
  }
  out.key = secret<std::string>{std::move(*decoded)};
  if (auto version = lookup(env, version_name)) {
    if (version->size() > 32) {
      return invalid(version_name, "must be at most 32 characters");
    }
    out.version = *version;
  }
  return out;
}

caf::expected<std::vector<cluster_peer>> parse_peers(const std::string& text) {
  std::vector<cluster_peer> peers;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    auto item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) {
      continue;
    }
    auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return invalid("CODEX_POOLER_CLUSTER_PEERS",
                     "each peer must be host:port (got \"" + item + "\")");
    }
    auto port = parse_int<uint16_t>(item.substr(colon + 1), 1, 65535);
    if (!port) {
      return invalid("CODEX_POOLER_CLUSTER_PEERS", "bad port in \"" + item + "\"");
    }
    peers.push_back({item.substr(0, colon), *port});
  }
  return peers;
}

} // namespace

std::string_view to_string(node_role role) {
  switch (role) {
  case node_role::all:
    return "all";
  case node_role::web:
    return "web";
  case node_role::worker:
    return "worker";
  case node_role::scheduler:
    return "scheduler";
  }
  return "all";
}

std::optional<std::string> decode_key_32(const std::string& text) {
  if (text.size() == key_bytes) {
    return text;
  }
  if (text.size() == key_bytes * 2) {
    if (auto raw = from_hex(text)) {
      return raw;
    }
  }
  if (auto raw = from_base64(text); raw && raw->size() == key_bytes) {
    return raw;
  }
  return std::nullopt;
}

caf::expected<boot_config> load_boot_config(const env_map& env) {
  boot_config config;

  if (auto dir = lookup(env, "CODEX_POOLER_DATA_DIR")) {
    config.data_dir = *dir;
  }
  config.database_url_text =
    lookup(env, "DATABASE_URL").value_or("sqlite://" + config.data_dir + "/codex-pooler.db");
  auto database = parse_database_url(config.database_url_text);
  if (!database) {
    return invalid("DATABASE_URL", context_of(database.error()));
  }
  config.database = std::move(*database);

  if (auto port = lookup(env, "PORT")) {
    auto parsed = parse_int<uint16_t>(*port, 0, 65535);
    if (!parsed) {
      return invalid("PORT", "must be a number from 0 to 65535 (got \"" + *port + "\")");
    }
    config.port = *parsed;
  }
  if (auto bind = lookup(env, "CODEX_POOLER_BIND_ADDRESS")) {
    config.bind_address = *bind;
  }
  if (auto role = lookup(env, "CODEX_POOLER_ROLE")) {
    static constexpr node_role roles[] = {node_role::all, node_role::web, node_role::worker,
                                          node_role::scheduler};
    bool found = false;
    for (auto candidate : roles) {
      if (*role == to_string(candidate)) {
        config.role = candidate;
        found = true;
      }
    }
    if (!found) {
      return invalid("CODEX_POOLER_ROLE",
                     "must be one of all, web, worker, scheduler (got \"" + *role + "\")");
    }
  }
  if (auto size = lookup(env, "POOL_SIZE")) {
    auto parsed = parse_int<size_t>(*size, 1, 256);
    if (!parsed) {
      return invalid("POOL_SIZE", "must be a number from 1 to 256 (got \"" + *size + "\")");
    }
    config.pool_size = *parsed;
  }
  if (auto level = lookup(env, "CODEX_POOLER_LOG_LEVEL")) {
    if (!log::parse_level(*level, config.log_level)) {
      return invalid("CODEX_POOLER_LOG_LEVEL",
                     "must be one of trace, debug, info, warn, error, off");
    }
  }
  if (auto grace = lookup(env, "CODEX_POOLER_SHUTDOWN_GRACE_MS")) {
    auto parsed = parse_int<int64_t>(*grace, 0, 600'000);
    if (!parsed) {
      return invalid("CODEX_POOLER_SHUTDOWN_GRACE_MS",
                     "must be a number of milliseconds up to 600000");
    }
    config.shutdown_grace = std::chrono::milliseconds{*parsed};
  }

  if (auto base = lookup(env, "SECRET_KEY_BASE")) {
    if (base->size() < min_secret_key_base_bytes) {
      return invalid("SECRET_KEY_BASE", "must be at least 32 characters");
    }
    config.secret_key_base = secret<std::string>{*base};
  }
  if (lookup(env, "CODEX_POOLER_UPSTREAM_SECRET_KEY")) {
    auto key =
      load_key(env, "CODEX_POOLER_UPSTREAM_SECRET_KEY", "CODEX_POOLER_UPSTREAM_SECRET_KEY_VERSION");
    if (!key) {
      return key.error();
    }
    config.upstream_secret_key = std::move(*key);
  }
  if (auto previous = lookup(env, "CODEX_POOLER_UPSTREAM_SECRET_KEY_PREVIOUS")) {
    size_t start = 0;
    while (start < previous->size()) {
      auto end = previous->find(',', start);
      if (end == std::string::npos) {
        end = previous->size();
      }
      const auto item = previous->substr(start, end - start);
      start = end + 1;
      const auto colon = item.find(':');
      auto decoded =
        colon == std::string::npos ? std::nullopt : decode_key_32(item.substr(colon + 1));
      if (!decoded || colon == 0) {
        return invalid("CODEX_POOLER_UPSTREAM_SECRET_KEY_PREVIOUS",
                       "each entry must be version:key with a 32-byte key");
      }
      config.upstream_previous_keys.push_back(
        {secret<std::string>{*decoded}, item.substr(0, colon)});
    }
  }
  if (lookup(env, "CODEX_POOLER_TOTP_ENCRYPTION_KEY")) {
    auto key =
      load_key(env, "CODEX_POOLER_TOTP_ENCRYPTION_KEY", "CODEX_POOLER_TOTP_ENCRYPTION_KEY_VERSION");
    if (!key) {
      return key.error();
    }
    config.totp_encryption_key = std::move(*key);
  }
  if (config.requires_shared_secrets()) {
    for (const char* name : {"SECRET_KEY_BASE", "CODEX_POOLER_UPSTREAM_SECRET_KEY",
                             "CODEX_POOLER_TOTP_ENCRYPTION_KEY"}) {
      if (!lookup(env, name)) {
        return invalid(name,
                       "is required with a PostgreSQL DATABASE_URL (every node must share it)");
      }
    }
  }

  for (auto [name, target] :
       {std::pair{"CODEX_POOLER_UPSTREAM_BASE_URL", &config.upstream_base_url},
        std::pair{"CODEX_POOLER_OAUTH_TOKEN_URL", &config.oauth_token_url},
        std::pair{"CODEX_POOLER_OAUTH_ISSUER_URL", &config.oauth_issuer_url}}) {
    if (auto url = lookup(env, name)) {
      if (!is_http_url(*url)) {
        return invalid(name, "must be an http:// or https:// URL");
      }
      *target = *url;
    }
  }
  while (config.upstream_base_url.ends_with('/')) {
    config.upstream_base_url.pop_back();
  }
  while (config.oauth_issuer_url.ends_with('/')) {
    config.oauth_issuer_url.pop_back();
  }

  config.node_name =
    lookup(env, "CODEX_POOLER_NODE_NAME").value_or(lookup(env, "HOSTNAME").value_or("local"));
  config.dns_cluster_query = lookup(env, "DNS_CLUSTER_QUERY").value_or("");
  if (auto peers = lookup(env, "CODEX_POOLER_CLUSTER_PEERS")) {
    auto parsed = parse_peers(*peers);
    if (!parsed) {
      return parsed.error();
    }
    config.cluster_peers = std::move(*parsed);
  }
  if (auto port = lookup(env, "CODEX_POOLER_CLUSTER_PORT")) {
    auto parsed = parse_int<uint16_t>(*port, 0, 65535);
    if (!parsed) {
      return invalid("CODEX_POOLER_CLUSTER_PORT",
                     "must be a number from 0 to 65535 (got \"" + *port + "\")");
    }
    config.cluster_port = *parsed;
  }
  if (auto ttl = lookup(env, "CODEX_POOLER_SESSION_LEASE_TTL_MS")) {
    auto parsed = parse_int<int64_t>(*ttl, 1'000, 600'000);
    if (!parsed) {
      return invalid("CODEX_POOLER_SESSION_LEASE_TTL_MS",
                     "must be a number of milliseconds from 1000 to 600000");
    }
    config.session_lease_ttl = std::chrono::milliseconds{*parsed};
  }
  if (auto renew = lookup(env, "CODEX_POOLER_SESSION_LEASE_RENEW_MS")) {
    auto parsed = parse_int<int64_t>(*renew, 100, 600'000);
    if (!parsed) {
      return invalid("CODEX_POOLER_SESSION_LEASE_RENEW_MS",
                     "must be a number of milliseconds from 100 to 600000");
    }
    config.session_lease_renewal = std::chrono::milliseconds{*parsed};
  }
  if (auto ttl = lookup(env, "CODEX_POOLER_ACCOUNT_LEASE_TTL_MS")) {
    auto parsed = parse_int<int64_t>(*ttl, 1'000, 600'000);
    if (!parsed) {
      return invalid("CODEX_POOLER_ACCOUNT_LEASE_TTL_MS",
                     "must be a number of milliseconds from 1000 to 600000");
    }
    config.account_lease_ttl = std::chrono::milliseconds{*parsed};
  }
  for (auto [name, interval] :
       {std::pair{"CODEX_POOLER_SETTINGS_POLL_MS", &config.settings_poll_interval},
        std::pair{"CODEX_POOLER_KEY_RECHECK_MS", &config.key_recheck_interval}}) {
    if (auto value = lookup(env, name)) {
      auto parsed = parse_int<int64_t>(*value, 100, 3'600'000);
      if (!parsed) {
        return invalid(name, "must be a number of milliseconds from 100 to 3600000");
      }
      *interval = std::chrono::milliseconds{*parsed};
    }
  }
  if (auto workers = lookup(env, "CODEX_POOLER_JOB_WORKERS")) {
    auto parsed = parse_int<size_t>(*workers, 0, 64);
    if (!parsed) {
      return invalid("CODEX_POOLER_JOB_WORKERS",
                     "must be a number from 0 to 64 (got \"" + *workers + "\")");
    }
    config.job_workers = *parsed;
  }
  for (auto [name, interval, min] :
       {std::tuple{"CODEX_POOLER_JOB_POLL_MS", &config.job_poll_interval, int64_t{10}},
        std::tuple{"CODEX_POOLER_SCHEDULER_LEASE_TTL_MS", &config.scheduler_lease_ttl,
                   int64_t{1'000}}}) {
    if (auto value = lookup(env, name)) {
      auto parsed = parse_int<int64_t>(*value, min, 600'000);
      if (!parsed) {
        return invalid(name, "must be a number of milliseconds from " + std::to_string(min)
                               + " to 600000");
      }
      *interval = std::chrono::milliseconds{*parsed};
    }
  }
  for (auto [name, target] : {std::pair{"CODEX_POOLER_JOB_EVERY_MS", &config.job_every},
                              std::pair{"CODEX_POOLER_JOB_TIMEOUT_MS", &config.job_timeout}}) {
    if (auto value = lookup(env, name)) {
      auto parsed = parse_int<int64_t>(*value, 100, 86'400'000);
      if (!parsed) {
        return invalid(name, "must be a number of milliseconds from 100 to 86400000");
      }
      *target = std::chrono::milliseconds{*parsed};
    }
  }
  if (config.session_lease_renewal >= config.session_lease_ttl) {
    return invalid("CODEX_POOLER_SESSION_LEASE_RENEW_MS",
                   "must be below CODEX_POOLER_SESSION_LEASE_TTL_MS");
  }
  config.admin_ui_dir = lookup(env, "CODEX_POOLER_ADMIN_UI_DIR").value_or("");
  return config;
}

} // namespace cxp
