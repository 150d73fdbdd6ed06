#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "common/boot_config.hpp"
#include "common/errc.hpp"
#include "common/log.hpp"
#include "edge/app/admin_cli.hpp"
#include "edge/app/generate_env.hpp"
#include "edge/app/local_secrets.hpp"
#include "edge/app/serve.hpp"

extern char** environ;

namespace {

constexpr const char* usage = R"(usage: codex-pooler <command>

commands:
  serve [--role all|web|worker|scheduler]   run the gateway (default command)
  migrate                                   apply pending database migrations and
                                            import the built-in pricing snapshot
  admin <command> ...                       provision pools, accounts, keys, settings
                                            (codex-pooler admin help)
  generate-env [--output PATH] [--image-tag TAG] [--force]
                                            write a private compose .env with fresh
                                            secrets (default compose/.env)
  help                                      show this text

configuration comes from the environment; see README.md.
)";

cxp::env_map read_environment() {
  cxp::env_map env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text{*entry};
    if (auto eq = text.find('='); eq != std::string::npos) {
      env.emplace(text.substr(0, eq), text.substr(eq + 1));
    }
  }
  return env;
}

void block_termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args{argv + 1, argv + argc};
  const std::string command = args.empty() ? "serve" : args.front();
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  if (command == "generate-env") {
    return cxp::edge::run_generate_env({args.begin() + 1, args.end()});
  }
  auto env = read_environment();
  if (command == "serve") {
    for (size_t i = 1; i + 1 < args.size(); ++i) {
      if (args[i] == "--role") {
        env["CODEX_POOLER_ROLE"] = args[i + 1];
      }
    }
  }
  auto config = cxp::load_boot_config(env);
  if (!config) {
    std::fprintf(stderr, "codex-pooler: %s\n", cxp::context_of(config.error()).c_str());
    return 2;
  }
  cxp::log::init(command == "admin" ? cxp::log::level::warn : config->log_level);
  if (auto secrets = cxp::edge::ensure_local_secrets(*config); !secrets) {
    std::fprintf(stderr, "codex-pooler: %s\n", cxp::context_of(secrets.error()).c_str());
    return 2;
  }
  if (command == "migrate") {
    return cxp::edge::migrate(*config);
  }
  if (command == "admin") {
    return cxp::edge::run_admin_cli(*config, {args.begin() + 1, args.end()});
  }
  if (command == "serve") {
    block_termination_signals();
    return cxp::edge::serve(*config);
  }
  std::fprintf(stderr, "codex-pooler: unknown command \"%s\"\n%s", command.c_str(), usage);
  return 2;
}
