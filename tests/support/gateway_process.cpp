#include "tests/support/gateway_process.hpp"

#include <cstdlib>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/test_database.hpp"

namespace cxp::test {

namespace {

constexpr auto startup_timeout = std::chrono::seconds{30};

std::vector<std::string> flatten(const env_vars& env) {
  std::vector<std::string> out;
  for (const auto& [key, value] : env) {
    out.push_back(key + "=" + value);
  }
  if (env.find("PATH") == env.end()) {
    if (const char* path = std::getenv("PATH")) {
      out.push_back(std::string{"PATH="} + path);
    }
  }
  return out;
}

pid_t spawn(const env_vars& env, const std::vector<std::string>& args, int out_fd, int err_fd,
            const std::string& working_dir = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, working_dir.c_str());
  }
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  auto env_strings = flatten(env);
  std::vector<char*> envp;
  for (auto& item : env_strings) {
    envp.push_back(item.data());
  }
  envp.push_back(nullptr);
  std::string binary = CXP_GATEWAY_BINARY;
  std::vector<std::string> arg_strings{binary};
  arg_strings.insert(arg_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& item : arg_strings) {
    argv.push_back(item.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot spawn " + binary);
  }
  return pid;
}

std::string drain(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

} // namespace

env_vars gateway_env(const std::string& database_url, const std::string& data_dir) {
  env_vars env = test_secrets_env();
  env["DATABASE_URL"] = database_url;
  env["PORT"] = "0";
  env["CODEX_POOLER_BIND_ADDRESS"] = "127.0.0.1";
  env["CODEX_POOLER_DATA_DIR"] = data_dir;
  env["CODEX_POOLER_LOG_LEVEL"] = "info";
  env["CODEX_POOLER_SHUTDOWN_GRACE_MS"] = "5000";
  return env;
}

command_result run_gateway_command(const env_vars& env, const std::vector<std::string>& args,
                                   std::chrono::seconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const pid_t pid = spawn(env, args, out_pipe[1], err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  command_result result;
  std::thread err_reader{[&] {
    result.err = drain(err_pipe[0]);
  }};
  result.out = drain(out_pipe[0]);
  err_reader.join();
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  result.exit_code = decode_status(status);
  return result;
}

command_result run_program(const std::vector<std::string>& argv, const std::string& input) {
  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0
      || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, in_pipe[1]);
  std::vector<std::string> copy = argv;
  std::vector<char*> raw;
  for (auto& item : copy) {
    raw.push_back(item.data());
  }
  raw.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    throw std::runtime_error("cannot spawn " + argv[0]);
  }
  std::thread writer{[&] {
    size_t written = 0;
    while (written < input.size()) {
      auto n = ::write(in_pipe[1], input.data() + written, input.size() - written);
      if (n <= 0) {
        break;
      }
      written += static_cast<size_t>(n);
    }
    ::close(in_pipe[1]);
  }};
  command_result result;
  std::thread err_reader{[&] {
    result.err = drain(err_pipe[0]);
  }};
  result.out = drain(out_pipe[0]);
  err_reader.join();
  writer.join();
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = decode_status(status);
  return result;
}

gateway_process::gateway_process(env_vars env, std::vector<std::string> args,
                                 std::string working_dir) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_ = spawn(env, args, out_pipe[1], out_pipe[1], working_dir);
  ::close(out_pipe[1]);
  out_fd_ = out_pipe[0];
  reader_ = std::thread{[this] {
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(out_fd_, buffer, sizeof buffer)) > 0) {
      std::lock_guard lock{mutex_};
      output_.append(buffer, static_cast<size_t>(n));
    }
  }};
  const auto give_up = std::chrono::steady_clock::now() + startup_timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    {
      std::lock_guard lock{mutex_};
      size_t start = 0;
      while (start < output_.size()) {
        auto end = output_.find('\n', start);
        if (end == std::string::npos) {
          break;
        }
        auto line = nlohmann::json::parse(output_.substr(start, end - start), nullptr, false);
        if (!line.is_discarded() && line.value("msg", "") == "listening") {
          port_ = line.value("port", uint16_t{0});
          return;
        }
        start = end + 1;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = decode_status(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  const auto printed = output();
  stop(SIGKILL, std::chrono::seconds{5});
  reader_.join();
  ::close(out_fd_);
  out_fd_ = -1;
  throw std::runtime_error("codex-pooler did not start listening; it printed:\n" + printed);
}

gateway_process::~gateway_process() {
  stop(SIGTERM, std::chrono::seconds{10});
  stop(SIGKILL, std::chrono::seconds{5});
  if (reader_.joinable()) {
    reader_.join();
  }
  if (out_fd_ >= 0) {
    ::close(out_fd_);
  }
}

int gateway_process::stop(int signal, std::chrono::milliseconds timeout) {
  if (exited_) {
    return exit_code_;
  }
  kill(pid_, signal);
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < give_up) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = decode_status(status);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return -1;
}

std::string gateway_process::output() const {
  std::lock_guard lock{mutex_};
  return output_;
}

uint16_t free_loopback_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor{
    ioc, {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(0)}};
  return acceptor.local_endpoint().port();
}

} // namespace cxp::test
