// fake-upstream: the fake ChatGPT Codex backend as a standalone process for e2e tests and
// benchmarks. Usage: fake-upstream --port N [--accounts file.json] [--threads T]
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fake_upstream/fake_upstream.hpp"

namespace {

int usage() {
  std::cerr << "usage: fake-upstream --port N [--accounts file.json] [--threads T]\n";
  return 2;
}

void log_error(const std::string& message) {
  std::cout << nlohmann::json{{"msg", "error"}, {"error", message}}.dump() << std::endl;
}

} // namespace

int main(int argc, char** argv) {
  long port = 0;
  long threads = 2;
  std::string accounts_file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      return usage();
    }
    if (arg == "--port") {
      port = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--accounts") {
      accounts_file = argv[++i];
    } else if (arg == "--threads") {
      threads = std::strtol(argv[++i], nullptr, 10);
    } else {
      return usage();
    }
  }
  if (port < 0 || port > 65535 || threads < 1) {
    return usage();
  }
  cxp::test::fake_upstream upstream{static_cast<uint16_t>(port), static_cast<size_t>(threads)};
  if (!accounts_file.empty()) {
    std::ifstream in{accounts_file};
    auto parsed = nlohmann::json::parse(in, nullptr, false);
    if (parsed.is_discarded()) {
      log_error("cannot parse accounts file " + accounts_file);
      return 1;
    }
    if (parsed.is_object() && parsed.contains("accounts")) {
      parsed = parsed["accounts"];
    }
    if (!parsed.is_array()) {
      log_error("accounts file must be an array or {\"accounts\": [...]}");
      return 1;
    }
    try {
      for (const auto& item : parsed) {
        upstream.set_account(item.get<cxp::test::account_script>());
      }
    } catch (const nlohmann::json::exception& e) {
      log_error(e.what());
      return 1;
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (auto error = upstream.start()) {
    log_error(*error);
    return 1;
  }
  std::cout << nlohmann::json{{"msg", "listening"}, {"port", upstream.port()}}.dump() << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  upstream.stop();
  return 0;
}
