#include "common/boot_config.hpp"

#include <catch2/catch.hpp>

#include "common/errc.hpp"

using cxp::env_map;
using cxp::load_boot_config;

namespace {

std::string failure_of(const env_map& env) {
  auto config = load_boot_config(env);
  REQUIRE_FALSE(config);
  CHECK(cxp::to_errc(config.error()) == cxp::errc::config_invalid);
  return cxp::context_of(config.error());
}

const env_map postgres_secrets = {
  {"SECRET_KEY_BASE", std::string(64, 'k')},
  {"CODEX_POOLER_UPSTREAM_SECRET_KEY", std::string(64, 'a')},
  {"CODEX_POOLER_TOTP_ENCRYPTION_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="},
};

} // namespace

TEST_CASE("an empty environment gives the single-node SQLite defaults", "[unit][common][config]") {
  auto config = load_boot_config({});
  REQUIRE(config);
  CHECK(config->port == 4000);
  CHECK(config->role == cxp::node_role::all);
  CHECK(config->database.kind == cxp::database_kind::sqlite);
  CHECK(config->database.path == "data/codex-pooler.db");
  CHECK(config->upstream_base_url == "https://chatgpt.com/backend-api");
  CHECK(config->oauth_token_url == "https://auth.openai.com/oauth/token");
  CHECK(config->oauth_issuer_url == "https://auth.openai.com");
  CHECK_FALSE(config->secret_key_base.has_value());
  CHECK_FALSE(config->requires_shared_secrets());
}

TEST_CASE("a bad PORT is an error that names the variable", "[unit][common][config]") {
  auto value = GENERATE(as<std::string>{}, "abc", "-1", "65536", "80x", "4000.5");
  auto message = failure_of({{"PORT", value}});
  CHECK(message.rfind("PORT: ", 0) == 0);
  CHECK(message.find(value) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("PORT 0 asks the kernel for a free port", "[unit][common][config]") {
  auto config = load_boot_config({{"PORT", "0"}});
  REQUIRE(config);
  CHECK(config->port == 0);
}

TEST_CASE("a bad DATABASE_URL is an error that names the variable", "[unit][common][config]") {
  auto value = GENERATE(as<std::string>{}, "mysql://x/y", "postgres://host",
                        "postgres://h:99999/db", "sqlite://", "just-text");
  auto message = failure_of({{"DATABASE_URL", value}});
  CHECK(message.rfind("DATABASE_URL: ", 0) == 0);
}

TEST_CASE("PostgreSQL requires the shared secrets", "[unit][common][config]") {
  env_map env = postgres_secrets;
  env["DATABASE_URL"] = "postgres://u:p@127.0.0.1:5432/codex";
  SECTION("all present") {
    auto config = load_boot_config(env);
    REQUIRE(config);
    CHECK(config->requires_shared_secrets());
    CHECK(config->upstream_secret_key->key.expose().size() == 32);
    CHECK(config->totp_encryption_key->key.expose() == "01234567890123456789012345678901");
  }
  SECTION("one missing") {
    env.erase("CODEX_POOLER_TOTP_ENCRYPTION_KEY");
    CHECK(failure_of(env).rfind("CODEX_POOLER_TOTP_ENCRYPTION_KEY: ", 0) == 0);
  }
}

TEST_CASE("secrets are validated without echoing them", "[unit][common][config]") {
  SECTION("short SECRET_KEY_BASE") {
    auto message = failure_of({{"SECRET_KEY_BASE", "tooshort-secret"}});
    CHECK(message.rfind("SECRET_KEY_BASE: ", 0) == 0);
    CHECK(message.find("tooshort-secret") == std::string::npos);
  }
  SECTION("upstream key of the wrong length") {
    auto message = failure_of({{"CODEX_POOLER_UPSTREAM_SECRET_KEY", "not-a-key-value"}});
    CHECK(message.rfind("CODEX_POOLER_UPSTREAM_SECRET_KEY: ", 0) == 0);
    CHECK(message.find("not-a-key-value") == std::string::npos);
  }
  SECTION("key version") {
    auto config = load_boot_config({{"CODEX_POOLER_UPSTREAM_SECRET_KEY", std::string(32, 'x')},
                                    {"CODEX_POOLER_UPSTREAM_SECRET_KEY_VERSION", "v7"}});
    REQUIRE(config);
    CHECK(config->upstream_secret_key->version == "v7");
  }
}

TEST_CASE("roles, URLs and cluster peers are parsed and checked", "[unit][common][config]") {
  CHECK(load_boot_config({{"CODEX_POOLER_ROLE", "worker"}})->role == cxp::node_role::worker);
  CHECK(failure_of({{"CODEX_POOLER_ROLE", "boss"}}).rfind("CODEX_POOLER_ROLE: ", 0) == 0);
  CHECK(failure_of({{"CODEX_POOLER_UPSTREAM_BASE_URL", "ftp://x"}})
          .rfind("CODEX_POOLER_UPSTREAM_BASE_URL: ", 0)
        == 0);
  auto config =
    load_boot_config({{"CODEX_POOLER_UPSTREAM_BASE_URL", "http://127.0.0.1:9/backend-api/"},
                      {"CODEX_POOLER_CLUSTER_PEERS", "a:4370,b.local:4371"}});
  REQUIRE(config);
  CHECK(config->upstream_base_url == "http://127.0.0.1:9/backend-api");
  REQUIRE(config->cluster_peers.size() == 2);
  CHECK(config->cluster_peers[1].host == "b.local");
  CHECK(config->cluster_peers[1].port == 4371);
  CHECK(
    failure_of({{"CODEX_POOLER_CLUSTER_PEERS", "nohost"}}).rfind("CODEX_POOLER_CLUSTER_PEERS: ", 0)
    == 0);
  CHECK(failure_of({{"POOL_SIZE", "0"}}).rfind("POOL_SIZE: ", 0) == 0);
}

TEST_CASE("session lease timings default to 45 s / 15 s and the renewal must be below the TTL",
          "[unit][common][config]") {
  auto defaults = load_boot_config({});
  REQUIRE(defaults);
  CHECK(defaults->session_lease_ttl == std::chrono::milliseconds{45'000});
  CHECK(defaults->session_lease_renewal == std::chrono::milliseconds{15'000});
  auto tuned = load_boot_config({{"CODEX_POOLER_SESSION_LEASE_TTL_MS", "3000"},
                                 {"CODEX_POOLER_SESSION_LEASE_RENEW_MS", "500"}});
  REQUIRE(tuned);
  CHECK(tuned->session_lease_ttl == std::chrono::milliseconds{3000});
  CHECK(tuned->session_lease_renewal == std::chrono::milliseconds{500});
  CHECK(failure_of({{"CODEX_POOLER_SESSION_LEASE_TTL_MS", "3000"},
                    {"CODEX_POOLER_SESSION_LEASE_RENEW_MS", "3000"}})
          .rfind("CODEX_POOLER_SESSION_LEASE_RENEW_MS: ", 0)
        == 0);
  CHECK(failure_of({{"CODEX_POOLER_SESSION_LEASE_TTL_MS", "soon"}})
          .rfind("CODEX_POOLER_SESSION_LEASE_TTL_MS: ", 0)
        == 0);
}

TEST_CASE("the account ownership lease defaults to 15 s and accepts 1 s to 10 min",
          "[unit][common][config]") {
  auto defaults = load_boot_config({});
  REQUIRE(defaults);
  CHECK(defaults->account_lease_ttl == std::chrono::milliseconds{15'000});
  auto tuned = load_boot_config({{"CODEX_POOLER_ACCOUNT_LEASE_TTL_MS", "3000"}});
  REQUIRE(tuned);
  CHECK(tuned->account_lease_ttl == std::chrono::milliseconds{3000});
  for (const auto* bad : {"999", "600001", "soon"}) {
    CHECK(failure_of({{"CODEX_POOLER_ACCOUNT_LEASE_TTL_MS", bad}})
            .rfind("CODEX_POOLER_ACCOUNT_LEASE_TTL_MS: ", 0)
          == 0);
  }
}

TEST_CASE("the settings poll and websocket key re-check default to 2 s and accept 100 ms to 1 h",
          "[unit][common][config]") {
  auto defaults = load_boot_config({});
  REQUIRE(defaults);
  CHECK(defaults->settings_poll_interval == std::chrono::milliseconds{2'000});
  CHECK(defaults->key_recheck_interval == std::chrono::milliseconds{2'000});
  auto tuned = load_boot_config(
    {{"CODEX_POOLER_SETTINGS_POLL_MS", "60000"}, {"CODEX_POOLER_KEY_RECHECK_MS", "100"}});
  REQUIRE(tuned);
  CHECK(tuned->settings_poll_interval == std::chrono::milliseconds{60'000});
  CHECK(tuned->key_recheck_interval == std::chrono::milliseconds{100});
  CHECK(failure_of({{"CODEX_POOLER_SETTINGS_POLL_MS", "99"}})
          .rfind("CODEX_POOLER_SETTINGS_POLL_MS: ", 0)
        == 0);
  CHECK(
    failure_of({{"CODEX_POOLER_KEY_RECHECK_MS", "often"}}).rfind("CODEX_POOLER_KEY_RECHECK_MS: ", 0)
    == 0);
}

TEST_CASE("job workers, polling, the scheduler lease and job tuning come from the environment",
          "[unit][common][config]") {
  auto defaults = load_boot_config({});
  REQUIRE(defaults);
  CHECK(defaults->job_workers == 2);
  CHECK(defaults->job_poll_interval == std::chrono::milliseconds{1'000});
  CHECK(defaults->scheduler_lease_ttl == std::chrono::milliseconds{30'000});
  CHECK_FALSE(defaults->job_every);
  CHECK_FALSE(defaults->job_timeout);

  auto tuned = load_boot_config({{"CODEX_POOLER_JOB_WORKERS", "0"},
                                 {"CODEX_POOLER_JOB_POLL_MS", "50"},
                                 {"CODEX_POOLER_SCHEDULER_LEASE_TTL_MS", "3000"},
                                 {"CODEX_POOLER_JOB_EVERY_MS", "2000"},
                                 {"CODEX_POOLER_JOB_TIMEOUT_MS", "4000"}});
  REQUIRE(tuned);
  CHECK(tuned->job_workers == 0);
  CHECK(tuned->job_poll_interval == std::chrono::milliseconds{50});
  CHECK(tuned->scheduler_lease_ttl == std::chrono::milliseconds{3'000});
  CHECK(tuned->job_every == std::chrono::milliseconds{2'000});
  CHECK(tuned->job_timeout == std::chrono::milliseconds{4'000});

  CHECK(failure_of({{"CODEX_POOLER_JOB_WORKERS", "65"}}).rfind("CODEX_POOLER_JOB_WORKERS: ", 0)
        == 0);
  CHECK(failure_of({{"CODEX_POOLER_SCHEDULER_LEASE_TTL_MS", "999"}})
          .rfind("CODEX_POOLER_SCHEDULER_LEASE_TTL_MS: ", 0)
        == 0);
  CHECK(failure_of({{"CODEX_POOLER_JOB_EVERY_MS", "soon"}}).rfind("CODEX_POOLER_JOB_EVERY_MS: ", 0)
        == 0);
}

TEST_CASE("the OAuth issuer URL is configurable, must be http(s) and loses a trailing slash",
          "[unit][common][config]") {
  auto config = load_boot_config({{"CODEX_POOLER_OAUTH_ISSUER_URL", "http://127.0.0.1:9/"}});
  REQUIRE(config);
  CHECK(config->oauth_issuer_url == "http://127.0.0.1:9");
  auto message = failure_of({{"CODEX_POOLER_OAUTH_ISSUER_URL", "ftp://x"}});
  CHECK(message.rfind("CODEX_POOLER_OAUTH_ISSUER_URL: ", 0) == 0);
}
