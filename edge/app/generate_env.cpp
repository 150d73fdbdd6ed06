#include "edge/app/generate_env.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "edge/app/local_secrets.hpp"

namespace cxp::edge {

namespace {

constexpr mode_t owner_only = 0600;
/// Passwords in hex, so they can sit in DATABASE_URL without escaping.
constexpr size_t password_bytes = 24;
constexpr const char* default_output = "compose/.env";
constexpr const char* usage =
  "usage: codex-pooler generate-env [--output PATH] [--image-tag TAG] [--force]\n";

struct options {
  std::string output = default_output;
  std::string image_tag = CXP_VERSION;
  bool force = false;
};

bool parse(const std::vector<std::string>& args, options& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--force") {
      out.force = true;
    } else if ((arg == "--output" || arg == "--image-tag") && i + 1 < args.size()
               && !args[i + 1].empty()) {
      (arg == "--output" ? out.output : out.image_tag) = args[++i];
    } else {
      return false;
    }
  }
  return true;
}

std::string env_text(const options& opts) {
  const auto secrets = generate_secrets();
  return "# Written by `codex-pooler generate-env` on " + to_iso8601(system_clock_source{}.now())
         + ".\n"
           "# Keep it private (mode 0600) and backed up: losing an encryption key makes the\n"
           "# stored upstream credentials or TOTP secrets unreadable. Rotate a key by adding a\n"
           "# new one with the next _VERSION (README, Configuration).\n"
           "CODEX_POOLER_IMAGE=codex-pooler:"
         + opts.image_tag
         + "\n"
           "POSTGRES_USER=codex_pooler\n"
           "POSTGRES_PASSWORD="
         + to_hex(random_bytes(password_bytes))
         + "\n"
           "POSTGRES_DB=codex_pooler\n"
           "SECRET_KEY_BASE="
         + secrets.secret_key_base
         + "\n"
           "CODEX_POOLER_UPSTREAM_SECRET_KEY="
         + secrets.upstream_secret_key
         + "\n"
           "CODEX_POOLER_UPSTREAM_SECRET_KEY_VERSION=v1\n"
           "CODEX_POOLER_TOTP_ENCRYPTION_KEY="
         + secrets.totp_encryption_key
         + "\n"
           "CODEX_POOLER_TOTP_ENCRYPTION_KEY_VERSION=v1\n"
           "CODEX_POOLER_HTTP_PORT=4000\n"
           "CODEX_POOLER_HTTP_PORT_2=4001\n"
           "CODEX_POOLER_GATEWAY_ROLE=all\n"
           "GRAFANA_ADMIN_PASSWORD="
         + to_hex(random_bytes(password_bytes))
         + "\n"
           "PROMETHEUS_PORT=9090\n"
           "GRAFANA_PORT=3000\n"
           "METRICS_BEARER_TOKEN=\n"
           "CODEX_POOLER_LOG_LEVEL=info\n"
           "CODEX_POOLER_SHUTDOWN_GRACE_MS=25000\n"
           "POOL_SIZE=10\n";
}

} // namespace

int run_generate_env(const std::vector<std::string>& args) {
  options opts;
  if (!parse(args, opts)) {
    std::fputs(usage, stderr);
    return 2;
  }
  const int flags = O_WRONLY | O_CREAT | (opts.force ? O_TRUNC : O_EXCL);
  const int fd = ::open(opts.output.c_str(), flags, owner_only);
  if (fd < 0) {
    if (errno == EEXIST) {
      std::fprintf(stderr,
                   "codex-pooler: %s exists; it holds the keys of an instance. Keep it, or pass "
                   "--force to replace it.\n",
                   opts.output.c_str());
    } else {
      std::fprintf(stderr, "codex-pooler: cannot create %s: %s\n", opts.output.c_str(),
                   std::strerror(errno));
    }
    return 1;
  }
  // An existing file replaced with --force keeps its old mode: make it private as well.
  ::fchmod(fd, owner_only);
  const auto text = env_text(opts);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written) {
    std::fprintf(stderr, "codex-pooler: cannot write %s\n", opts.output.c_str());
    return 1;
  }
  std::printf("wrote %s (mode 0600). Next:\n"
              "  docker-compose -f compose/docker-compose.yml up -d --build\n"
              "  open http://localhost:4000/ and create the first owner\n",
              opts.output.c_str());
  return 0;
}

} // namespace cxp::edge
