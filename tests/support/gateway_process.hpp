#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace cxp::test {

using env_vars = std::map<std::string, std::string>;

/// What a finished `codex-pooler` command printed and returned.
struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `codex-pooler args...` with exactly `env` (plus PATH) and waits for it to exit.
command_result run_gateway_command(const env_vars& env, const std::vector<std::string>& args,
                                   std::chrono::seconds timeout = std::chrono::seconds{60});

/// Runs a program from PATH (promtool, psql, …) and returns what it printed; `input` goes to stdin.
command_result run_program(const std::vector<std::string>& argv, const std::string& input = {});

/// A `codex-pooler serve` child process for black-box tests (see `gateway_env`). The constructor
/// waits (bounded) for its "listening" log line to learn the port. The destructor sends SIGTERM
/// and, after a deadline, SIGKILL.
class gateway_process {
public:
  explicit gateway_process(env_vars env, std::vector<std::string> args = {"serve"},
                           std::string working_dir = {});
  ~gateway_process();
  gateway_process(const gateway_process&) = delete;
  gateway_process& operator=(const gateway_process&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// Sends `signal` and waits up to `timeout` for the exit; returns the exit code (-1 on timeout).
  int stop(int signal, std::chrono::milliseconds timeout);

  /// Everything the process printed so far.
  std::string output() const;

private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  uint16_t port_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::string output_;
  int exit_code_ = -1;
  bool exited_ = false;
};

/// A loopback port nobody listens on right now (e.g. a cluster port, which peers must know
/// before the node starts).
uint16_t free_loopback_port();

/// The environment a test gateway needs: a DATABASE_URL, PORT=0, the fixed test secrets and a
/// private data directory.
env_vars gateway_env(const std::string& database_url, const std::string& data_dir);

} // namespace cxp::test
