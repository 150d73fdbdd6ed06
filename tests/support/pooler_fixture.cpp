#include "tests/support/pooler_fixture.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "common/encoding.hpp"
#include "persistence/request_logs/request_log_repository.hpp"
#include "tests/support/admin_client.hpp"

namespace cxp::test {

namespace {

using nlohmann::json;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

json run_cli(const env_vars& env, const std::vector<std::string>& args) {
  auto result = run_gateway_command(env, args);
  if (result.exit_code != 0) {
    throw std::runtime_error("codex-pooler " + args[0] + " failed: " + result.err + result.out);
  }
  return json::parse(result.out);
}

} // namespace

account_script make_account_script(const std::string& account_id) {
  account_script script;
  script.account_id = account_id;
  script.access_token = make_fake_jwt(account_id, "plus", 0, unix_now() + fake_token_lifetime_s);
  script.refresh_token = "rt-" + account_id + "-0";
  script.reply_text = "hello from " + account_id;
  return script;
}

json auth_json_for(const account_script& script) {
  const json id_claims = {{"email", script.account_id + "@example.com"},
                          {"https://api.openai.com/auth",
                           {{"chatgpt_account_id", script.account_id},
                            {"chatgpt_plan_type", script.plan_type},
                            {"chatgpt_user_id", "user-" + script.account_id}}}};
  return {{"auth_mode", "chatgpt"},
          {"OPENAI_API_KEY", nullptr},
          {"tokens",
           {{"id_token", make_jwt(id_claims)},
            {"access_token", script.access_token},
            {"refresh_token", script.refresh_token},
            {"account_id", script.account_id}}},
          {"last_refresh", "2026-11-20T10:00:00Z"}};
}

pooler_fixture::pooler_fixture(options opts)
    : data_dir_(std::filesystem::temp_directory_path() / ("cxp_pool_" + to_hex(random_bytes(6)))),
      database_(opts.database) {
  std::filesystem::create_directories(data_dir_);
  if (auto error = upstream_.start()) {
    throw std::runtime_error("fake upstream: " + *error);
  }
  env_ = gateway_env(database_.url(), data_dir_.string());
  const auto base = "http://127.0.0.1:" + std::to_string(upstream_.port());
  env_["CODEX_POOLER_UPSTREAM_BASE_URL"] = base + "/backend-api";
  env_["CODEX_POOLER_OAUTH_TOKEN_URL"] = base + "/oauth/token";
  for (const auto& [name, value] : opts.gateway_env) {
    env_[name] = value;
  }

  json bundle = json::array();
  for (int i = 0; i < opts.accounts; ++i) {
    auto script = make_account_script("acct-" + std::to_string(i + 1));
    if (opts.script) {
      opts.script(i, script);
    }
    upstream_.set_account(script);
    bundle.push_back(auth_json_for(script));
  }
  const auto bundle_file = data_dir_ / "accounts.json";
  std::ofstream{bundle_file} << bundle.dump();

  auto pool = run_cli(env_, {"admin", "pool", "create", "--name", "proxy-test", "--strategy",
                             opts.strategy, "--ring-size", std::to_string(opts.ring_size)});
  pool_id_ = pool["id"].get<std::string>();
  auto imported = run_cli(
    env_, {"admin", "account", "import", "--json-array", bundle_file.string(), "--pool", pool_id_});
  for (const auto& item : imported) {
    account_ids_[item["account"]["chatgpt_account_id"].get<std::string>()] =
      item["account"]["id"].get<std::string>();
  }
  std::filesystem::remove(bundle_file);
  std::vector<std::string> create_key{"admin",  "key",    "create",    "--pool",
                                      pool_id_, "--name", "proxy-test"};
  if (!opts.key_policy.is_null()) {
    create_key.insert(create_key.end(), {"--policy", opts.key_policy.dump()});
  }
  auto key = run_cli(env_, create_key);
  api_key_ = key["key"].get<std::string>();
  if (!opts.settings.empty()) {
    std::vector<std::string> args{"admin", "settings", "set"};
    args.insert(args.end(), opts.settings.begin(), opts.settings.end());
    run_cli(env_, args);
  }
  if (opts.start_gateway) {
    gateway_ = std::make_unique<gateway_process>(env_);
  }
}

pooler_fixture::~pooler_fixture() {
  gateway_.reset();
  upstream_.stop();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
}

void pooler_fixture::restart_gateway() {
  gateway_.reset();
  gateway_ = std::make_unique<gateway_process>(env_);
}

void pooler_fixture::script(const std::string& account,
                            const std::function<void(account_script&)>& change) {
  auto current = upstream_.account(account);
  if (!current) {
    throw std::runtime_error("unknown fake account " + account);
  }
  change(*current);
  upstream_.set_account(*current);
}

http_result pooler_fixture::turn(const std::map<std::string, std::string>& headers,
                                 const std::string& text, const std::string& model) {
  return turn_via(gateway_->port(), headers, text, model);
}

http_result pooler_fixture::turn_via(uint16_t port,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& text, const std::string& model) {
  const auto body = user_turn_body(text, model);
  auto all = headers;
  all.emplace("authorization", "Bearer " + api_key_);
  all.emplace("content-type", "application/json");
  all.emplace("accept", "text/event-stream");
  return http_request(port, "POST", "/backend-api/codex/responses", body.dump(), all);
}

std::map<std::string, int> pooler_fixture::turns_served() const {
  std::map<std::string, int> served;
  for (const auto& [chatgpt_id, row_id] : account_ids_) {
    served[chatgpt_id] = upstream_.counters(chatgpt_id).turns_served;
  }
  return served;
}

size_t pooler_fixture::upstream_turns() const {
  const auto recorded = upstream_.recorded();
  return static_cast<size_t>(
    std::count_if(recorded.begin(), recorded.end(), [](const recorded_request& request) {
      return request.target == "/backend-api/codex/responses";
    }));
}

json pooler_fixture::request_logs(size_t count) {
  // The writer batches off the request path, so the rows land shortly after the answers.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  json rows = json::array();
  while (std::chrono::steady_clock::now() < give_up) {
    auto logs = persistence::request_log_repository{database_.db()}.recent(100);
    if (logs && logs->size() >= count) {
      for (const auto& log : *logs) {
        auto opt = [](const auto& value) {
          return value ? json(*value) : json(nullptr);
        };
        rows.push_back({{"id", log.id},
                        {"account_id", opt(log.account_id)},
                        {"transport", log.transport},
                        {"route", log.route},
                        {"status_code", log.status_code},
                        {"outcome", log.outcome},
                        {"error_code", opt(log.error_code)},
                        {"attempt_count", log.attempts.size()},
                        {"input_tokens", opt(log.input_tokens)},
                        {"output_tokens", opt(log.output_tokens)},
                        {"model", opt(log.model)},
                        {"cost_micros", opt(log.cost_micros)},
                        {"session_key_hash", opt(log.session_key_hash)},
                        {"ttfb_ms", opt(log.ttfb_ms)},
                        {"client_ip", opt(log.client_ip)}});
      }
      return rows;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return rows;
}

std::string pooler_fixture::dump_database() {
  if (database_.kind() == backend::postgres) {
    return run_program({"pg_dump", "--data-only", database_.url()}).out;
  }
  return run_program({"sqlite3", database_.url().substr(std::string{"sqlite://"}.size()), ".dump"})
    .out;
}

} // namespace cxp::test
