#include "edge/app/admin_cli.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/encoding.hpp"
#include "common/json_input.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/admin_input.hpp"
#include "domain/jobs/job_service.hpp"
#include "domain/keys/api_key_service.hpp"
#include "domain/keys/key_authenticator.hpp"
#include "domain/mcp/mcp_token_service.hpp"
#include "domain/operators/operator_service.hpp"
#include "domain/pools/pool_service.hpp"
#include "domain/settings/settings_service.hpp"
#include "edge/app/onboarding_cli.hpp"
#include "edge/app/service_wiring.hpp"
#include "edge/routes/admin_api/admin_fields.hpp"
#include "edge/routes/codex/codex_login.hpp"
#include "persistence/migrate/migrator.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;
using namespace domain;

constexpr const char* admin_usage = R"(usage: codex-pooler admin <command> [--flag value]...

  bootstrap --email E --display-name N (--password P | --password-stdin)
  pool create --name N [--slug S] [--strategy bridge_ring|deterministic_rotation|least_recent_success|quota_first] [--ring-size N]
  pool list
  account import (--file auth.json | --dir DIR | --json-array FILE) [--pool POOL_ID]...
  account list [--pool POOL_ID]
  account rotate-keys              re-encrypt every account's tokens with the current key
  key create --pool POOL_ID --name N [--expires-at ISO8601] [--policy JSON]
  key rotate --id KEY_ID
  key revoke --id KEY_ID
  key list [--pool POOL_ID]
  key codex-auth [--plan PLAN]     reads a raw sk-cxp- key on stdin and prints a Codex auth.json
                                   for ChatGPT-login mode (README: /status shows the pool's limits)
  settings list
  settings set KEY=JSON_VALUE...
  job list [--kind KIND] [--state queued|running|succeeded|failed|cancelled] [--limit N]
  job run KIND [--pool POOL_ID]    queue a run now; a worker node runs it
                                   (token_refresh quota_reconciliation catalog_sync pricing_import
                                    usage_rollup retention runtime_cleanup)
  mcp-token create --operator EMAIL_OR_ID --name N [--expires-in-days 1..365]
                                   prints the raw mcp-cxp- token once
  mcp-token list [--operator EMAIL_OR_ID]
  mcp-token revoke --id TOKEN_ID
  mcp-access enable|disable --operator EMAIL_OR_ID
                                   the operator's own MCP switch (the instance gate is the
                                   mcp.enabled setting)
)";

struct parsed_args {
  std::vector<std::string> words;
  std::multimap<std::string, std::string> flags;

  std::optional<std::string> flag(const std::string& name) const {
    auto it = flags.find(name);
    return it == flags.end() ? std::nullopt : std::optional<std::string>{it->second};
  }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (auto [it, end] = flags.equal_range(name); it != end; ++it) {
      out.push_back(it->second);
    }
    return out;
  }
};

parsed_args parse(const std::vector<std::string>& args) {
  parsed_args out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      const auto name = args[i].substr(2);
      if (name == "password-stdin") {
        out.flags.emplace(name, "");
      } else if (i + 1 < args.size()) {
        out.flags.emplace(name, args[++i]);
      } else {
        out.flags.emplace(name, "");
      }
    } else {
      out.words.push_back(args[i]);
    }
  }
  return out;
}

int fail(const caf::error& error) {
  std::string message{to_string(to_errc(error))};
  auto fields = field_errors_of(error);
  for (const auto& [field, text] : fields) {
    message += " " + field + ": " + text + ";";
  }
  if (fields.empty() && to_errc(error) != errc::internal_error
      && to_errc(error) != errc::database_unavailable) {
    message += ": " + context_of(error);
  }
  std::fprintf(stderr, "codex-pooler: %s\n", escape_controls(message).c_str());
  return 1;
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "codex-pooler: %s\n%s", escape_controls(why).c_str(), admin_usage);
  return 2;
}

template <class T>
int print(const caf::expected<T>& result) {
  if (!result) {
    return fail(result.error());
  }
  std::cout << printable_json(to_json(*result)) << "\n";
  return 0;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path};
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int import_accounts(service_context& context, const principal& who, const parsed_args& args) {
  if (args.flag("label")) {
    // Refused rather than dropped: the bulk import has no label to set.
    return usage_error(
      "account import takes no --label; set one with PATCH /admin/api/upstreams/:id");
  }
  std::vector<std::pair<std::string, std::string>> items;
  if (auto file = args.flag("file")) {
    items.emplace_back(*file, read_file(*file));
  } else if (auto dir = args.flag("dir")) {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(*dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") {
        paths.push_back(entry.path());
      }
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
      items.emplace_back(path.filename().string(), read_file(path));
    }
  } else if (auto array_file = args.flag("json-array")) {
    json parsed;
    if (auto problem = parse_untrusted(read_file(*array_file), parsed);
        problem || !parsed.is_array()) {
      return usage_error(*array_file + " is not a JSON array");
    }
    for (size_t i = 0; i < parsed.size(); ++i) {
      items.emplace_back(*array_file + "[" + std::to_string(i) + "]", parsed[i].dump());
    }
  } else {
    return usage_error("account import needs --file, --dir or --json-array");
  }
  account_service accounts{context};
  auto results = accounts.import_many(who, items, args.all("pool"), [](size_t done, size_t total) {
    std::fprintf(stderr, "\rimported %zu/%zu", done, total);
    if (done == total) {
      std::fputc('\n', stderr);
    }
  });
  json out = json::array();
  int failures = 0;
  for (const auto& result : results) {
    failures += result.error_code ? 1 : 0;
    out.push_back(to_json(result));
  }
  std::cout << printable_json(out) << "\n";
  return failures == 0 ? 0 : 1;
}

int run_job_command(service_context& context, const principal& who, const parsed_args& args,
                    const std::string& command) {
  job_service jobs{context};
  if (command == "job list") {
    job_query query;
    query.kind = args.flag("kind");
    query.state = args.flag("state");
    if (auto limit = args.flag("limit")) {
      try {
        query.page.limit = std::stoi(*limit);
      } catch (const std::exception&) {
        return usage_error("job list --limit takes a number");
      }
    }
    auto page = jobs.list(who, query);
    if (!page) {
      return fail(page.error());
    }
    json out = json::array();
    for (const auto& job : page->items) {
      out.push_back(to_json(job));
    }
    std::cout << printable_json(out) << "\n";
    return 0;
  }
  if (args.words.size() != 3) {
    return usage_error("job run takes one KIND");
  }
  auto queued = jobs.run(who, {args.words[2], args.flag("pool")});
  if (!queued) {
    return fail(queued.error());
  }
  std::cout << printable_json(json{{"job", to_json(queued->job)}, {"created", queued->created}})
            << "\n";
  return 0;
}

/// The id of the operator named by `--operator` (an id or an email, any case).
caf::expected<std::string> operator_named(service_context& context, const principal& who,
                                          const parsed_args& args) {
  const auto wanted = args.flag("operator");
  if (!wanted || wanted->empty()) {
    return make_validation_error({{"operator", "is required (an email or an id)"}});
  }
  auto operators = operator_service{context}.list(who);
  if (!operators) {
    return operators.error();
  }
  for (const auto& op : *operators) {
    if (op.id == *wanted || op.email == ascii_lowercase(*wanted)) {
      return op.id;
    }
  }
  return make_error(errc::not_found, "no operator " + *wanted);
}

int run_mcp_command(service_context& context, const principal& who, const parsed_args& args,
                    const std::string& command) {
  mcp_token_service tokens{context};
  if (command == "mcp-token revoke") {
    return print(tokens.revoke(who, args.flag("id").value_or("")));
  }
  if (command == "mcp-token list") {
    std::optional<std::string> whose;
    if (args.flag("operator")) {
      auto id = operator_named(context, who, args);
      if (!id) {
        return fail(id.error());
      }
      whose = *id;
    }
    auto listed = tokens.list(who, whose);
    if (!listed) {
      return fail(listed.error());
    }
    json out = json::array();
    for (const auto& token : *listed) {
      out.push_back(to_json(token));
    }
    std::cout << printable_json(out) << "\n";
    return 0;
  }
  auto operator_id = operator_named(context, who, args);
  if (!operator_id) {
    return fail(operator_id.error());
  }
  if (command == "mcp-access enable" || command == "mcp-access disable") {
    return print(tokens.set_access(who, *operator_id, command == "mcp-access enable"));
  }
  mcp_token_request request;
  request.name = args.flag("name").value_or("");
  request.operator_id = *operator_id;
  if (auto days = args.flag("expires-in-days")) {
    try {
      request.expires_in_days = std::stoi(*days);
    } catch (const std::exception&) {
      return usage_error("mcp-token create --expires-in-days takes a number");
    }
  }
  auto created = tokens.create(who, request);
  if (!created) {
    return fail(created.error());
  }
  std::cout << printable_json(
    json{{"token", to_json(created->token)}, {"raw_token", created->raw.expose()}})
            << "\n";
  return 0;
}

int run(service_context& context, const parsed_args& args) {
  principal who;
  who.type = principal::kind::cli;
  const auto command = args.words.size() >= 2
                         ? args.words[0] + " " + args.words[1]
                         : (args.words.empty() ? std::string{} : args.words[0]);
  if (command == "bootstrap") {
    auto password = args.flag("password").value_or("");
    if (args.flag("password-stdin")) {
      std::getline(std::cin, password);
    }
    return print(operator_service{context}.bootstrap(
      who, {args.flag("email").value_or(""), password, args.flag("display-name").value_or("")}));
  }
  if (command == "pool create") {
    json body = json::object();
    for (const auto& [flag, field] : {std::pair{"name", "name"}, std::pair{"slug", "slug"},
                                      std::pair{"strategy", "routing_strategy"}}) {
      if (auto value = args.flag(flag)) {
        body[field] = *value;
      }
    }
    if (auto ring = args.flag("ring-size")) {
      // Not a number -> a string, which parse_pool_fields refuses instead of reading as 0.
      auto number = json::parse(*ring, nullptr, false);
      body["ring_size"] = number.is_discarded() ? json(*ring) : number;
    }
    auto fields = parse_pool_fields(body);
    if (!fields) {
      return fail(fields.error());
    }
    return print(pool_service{context}.create(who, *fields));
  }
  if (command == "pool list") {
    auto page = pool_service{context}.list(who, {});
    if (!page) {
      return fail(page.error());
    }
    json out = json::array();
    for (const auto& pool : page->items) {
      out.push_back(to_json(pool));
    }
    std::cout << printable_json(out) << "\n";
    return 0;
  }
  if (command == "account import") {
    return import_accounts(context, who, args);
  }
  if (command == "account list") {
    account_filter filter;
    filter.pool_id = args.flag("pool");
    auto page = account_service{context}.list(who, filter);
    if (!page) {
      return fail(page.error());
    }
    json out = json::array();
    for (const auto& account : page->items) {
      out.push_back(to_json(account));
    }
    std::cout << printable_json(out) << "\n";
    return 0;
  }
  if (command == "account rotate-keys") {
    auto count = account_service{context}.rotate_keys(who);
    if (!count) {
      return fail(count.error());
    }
    std::cout << printable_json(
      json{{"reencrypted", *count}, {"key_version", context.upstream_keys.current_version()}})
              << "\n";
    return 0;
  }
  if (command == "key codex-auth") {
    std::string raw;
    std::getline(std::cin, raw);
    while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ')) {
      raw.pop_back();
    }
    const auto plan = args.flag("plan").value_or("plus");
    if (plan.empty() || plan.size() > 64
        || plan.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      return usage_error("--plan takes a ChatGPT plan type such as plus, pro or team");
    }
    auto key = key_authenticator{context}.authenticate(raw);
    if (!key) {
      return fail(key.error());
    }
    std::cout << codex_auth_json(raw, key->key, plan, context.clock.now()).dump(2) << "\n";
    return 0;
  }
  if (command == "key create" || command == "key rotate" || command == "key revoke"
      || command == "key list") {
    api_key_service keys{context};
    if (command == "key list") {
      api_key_filter filter;
      filter.pool_id = args.flag("pool");
      auto page = keys.list(who, filter);
      if (!page) {
        return fail(page.error());
      }
      json out = json::array();
      for (const auto& key : page->items) {
        out.push_back(to_json(key));
      }
      std::cout << printable_json(out) << "\n";
      return 0;
    }
    if (command == "key revoke") {
      return print(keys.revoke(who, args.flag("id").value_or("")));
    }
    caf::expected<created_api_key> created{make_error(errc::internal_error)};
    if (command == "key create") {
      json body = {{"pool_id", args.flag("pool").value_or("")},
                   {"display_name", args.flag("name").value_or("")}};
      if (auto expires = args.flag("expires-at")) {
        body["expires_at"] = *expires;
      }
      if (auto policy = args.flag("policy")) {
        if (auto problem = parse_untrusted(*policy, body["policy"])) {
          return fail(make_error(errc::validation_failed, "policy: " + problem->message));
        }
      }
      auto fields = parse_api_key_fields(body);
      if (!fields) {
        return fail(fields.error());
      }
      created = keys.create(who, *fields);
    } else {
      created = keys.rotate(who, args.flag("id").value_or(""));
    }
    if (!created) {
      return fail(created.error());
    }
    std::cout << printable_json(to_json(*created)) << "\n";
    return 0;
  }
  if (command == "job list" || command == "job run") {
    return run_job_command(context, who, args, command);
  }
  if (command == "mcp-token create" || command == "mcp-token list" || command == "mcp-token revoke"
      || command == "mcp-access enable" || command == "mcp-access disable") {
    return run_mcp_command(context, who, args, command);
  }
  if (command == "settings list") {
    auto listed = settings_service{context}.list(who);
    if (!listed) {
      return fail(listed.error());
    }
    std::cout << printable_json(*listed) << "\n";
    return 0;
  }
  if (command == "settings set") {
    json changes = json::object();
    for (size_t i = 2; i < args.words.size(); ++i) {
      const auto& item = args.words[i];
      const auto eq = item.find('=');
      if (eq == std::string::npos) {
        return usage_error("settings set expects KEY=JSON_VALUE");
      }
      json value;
      const bool text = parse_untrusted(item.substr(eq + 1), value).has_value();
      changes[item.substr(0, eq)] = text ? json(item.substr(eq + 1)) : value;
    }
    auto updated = settings_service{context}.update(who, changes);
    if (!updated) {
      return fail(updated.error());
    }
    std::cout << printable_json(*updated) << "\n";
    return 0;
  }
  return usage_error(command.empty() ? "admin needs a command"
                                     : "unknown admin command \"" + command + "\"");
}

} // namespace

int run_admin_cli(const boot_config& config, const std::vector<std::string>& args) {
  const auto parsed = parse(args);
  if (parsed.words.empty() || parsed.words[0] == "help") {
    std::fputs(admin_usage, stdout);
    std::fputs(onboarding_cli_usage, stdout);
    return parsed.words.empty() ? 2 : 0;
  }
  auto db = persistence::database::open(config.database, 2);
  if (!db) {
    std::fprintf(stderr, "codex-pooler: DATABASE_URL: %s\n",
                 escape_controls(context_of(db.error())).c_str());
    return 1;
  }
  system_clock_source clock;
  if (auto migrated = persistence::run_migrations(**db, persistence::embedded_migrations(), clock);
      !migrated) {
    return fail(migrated.error());
  }
  auto wiring = make_service_wiring(config, **db);
  if (!wiring) {
    std::fprintf(stderr, "codex-pooler: %s\n", escape_controls(context_of(wiring.error())).c_str());
    return 2;
  }
  const auto& words = parsed.words;
  if (auto handled = run_onboarding_cli(config, *(*wiring)->context,
                                        words.size() >= 2 ? words[0] + " " + words[1] : words[0],
                                        parsed.flags)) {
    return *handled;
  }
  return run(*(*wiring)->context, parsed);
}

} // namespace cxp::edge
