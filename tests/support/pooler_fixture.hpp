#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fake_upstream/fake_upstream.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_database.hpp"

namespace cxp::test {

/// A whole pooler on loopback for black-box tests: a fake upstream (in process) with accounts
/// `acct-1`…`acct-N`, a database, one pool holding those accounts (imported through the admin
/// CLI), a Pool API key, and a `codex-pooler serve` pointed at the fake.
class pooler_fixture {
public:
  struct options {
    backend database = backend::postgres;
    int accounts = 2;
    int ring_size = 3;
    std::string strategy = "bridge_ring";
    /// Instance settings written before the gateway starts (`KEY=JSON` pairs).
    std::vector<std::string> settings;
    /// Applied to each account script before import (index from 0).
    std::function<void(int, account_script&)> script;
    /// The Pool API key's policy (the admin API's `policy` object); none when null.
    nlohmann::json key_policy;
    /// False for tests that start their own gateways (e.g. a cluster) on `env()`.
    bool start_gateway = true;
    /// More boot variables for every gateway this fixture starts (part of `env()`).
    env_vars gateway_env;
  };

  explicit pooler_fixture(options opts);
  ~pooler_fixture();

  fake_upstream& upstream() { return upstream_; }
  gateway_process& gateway() { return *gateway_; }
  test_database& database() { return database_; }
  const std::string& pool_id() const { return pool_id_; }
  const std::string& api_key() const { return api_key_; }
  const env_vars& env() const { return env_; }

  /// The fake account id (`acct-N`) → the gateway's account row id.
  const std::map<std::string, std::string>& account_ids() const { return account_ids_; }

  /// Stops the gateway (SIGTERM) and starts a new process on the same database.
  void restart_gateway();

  /// Replaces an account's script on the fake, keeping its current tokens.
  void script(const std::string& account, const std::function<void(account_script&)>& change);

  /// How many turns (`POST /backend-api/codex/responses`) reached the fake upstream so far; the
  /// background jobs' own calls (usage polls, catalog syncs) are not turns.
  size_t upstream_turns() const;

  /// POST /backend-api/codex/responses with the pool key, a small streaming body and `headers`.
  http_result turn(const std::map<std::string, std::string>& headers = {},
                   const std::string& text = "say hi", const std::string& model = "gpt-5.5");
  /// The same turn through the gateway listening on `port` (e.g. one node of a cluster).
  http_result turn_via(uint16_t port, const std::map<std::string, std::string>& headers = {},
                       const std::string& text = "say hi", const std::string& model = "gpt-5.5");

  /// The account that served the most recent successful turn, by the fake's counters diff.
  std::map<std::string, int> turns_served() const;

  /// Waits until the gateway's request log holds `count` rows (bounded), then returns them
  /// newest first.
  nlohmann::json request_logs(size_t count);

  /// Every row of every table, as text (for privacy assertions).
  std::string dump_database();

private:
  std::filesystem::path data_dir_;
  fake_upstream upstream_;
  test_database database_;
  env_vars env_;
  std::string pool_id_;
  std::string api_key_;
  std::map<std::string, std::string> account_ids_;
  std::unique_ptr<gateway_process> gateway_;
};

/// A fresh account script for `account_id` with valid tokens (generation 0, an hour ahead).
account_script make_account_script(const std::string& account_id);

/// The Codex auth.json that imports `script`'s tokens.
nlohmann::json auth_json_for(const account_script& script);

} // namespace cxp::test
