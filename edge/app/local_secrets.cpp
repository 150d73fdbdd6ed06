#include "edge/app/local_secrets.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "common/log.hpp"

namespace cxp::edge {

namespace {

constexpr size_t secret_key_base_bytes = 48;
constexpr size_t aes_key_bytes = 32;
constexpr mode_t owner_only = 0600;

caf::expected<nlohmann::json> read_or_create(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return make_error(errc::config_invalid,
                      "CODEX_POOLER_DATA_DIR: cannot create " + path.parent_path().string());
  }
  const auto fresh = generate_secrets();
  nlohmann::json generated = {{"secret_key_base", fresh.secret_key_base},
                              {"upstream_secret_key", fresh.upstream_secret_key},
                              {"totp_encryption_key", fresh.totp_encryption_key}};
  // O_EXCL makes the first of two racing starts the only writer; the other reads its file.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, owner_only);
  if (fd >= 0) {
    const auto text = generated.dump(2) + "\n";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) {
      return make_error(errc::config_invalid, "cannot write " + path.string());
    }
    log::info("app", "generated local secrets", {{"path", path.string()}});
    return generated;
  }
  if (errno != EEXIST) {
    return make_error(errc::config_invalid, "cannot create " + path.string());
  }
  ::chmod(path.c_str(), owner_only);
  std::ifstream in{path};
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto stored = nlohmann::json::parse(buffer.str(), nullptr, false);
  if (stored.is_discarded() || !stored.is_object()) {
    return make_error(errc::config_invalid, path.string() + " is not valid JSON");
  }
  return stored;
}

caf::expected<std::string> stored_key(const nlohmann::json& stored, const char* field,
                                      const std::string& path) {
  if (!stored.contains(field) || !stored[field].is_string()) {
    return make_error(errc::config_invalid, path + " has no " + field);
  }
  auto decoded = decode_key_32(stored[field].get<std::string>());
  if (!decoded) {
    return make_error(errc::config_invalid, path + ": " + field + " is not a 32-byte key");
  }
  return *decoded;
}

} // namespace

fresh_secrets generate_secrets() {
  return {to_base64(random_bytes(secret_key_base_bytes)), to_base64(random_bytes(aes_key_bytes)),
          to_base64(random_bytes(aes_key_bytes))};
}

caf::expected<void> ensure_local_secrets(boot_config& config) {
  if (config.secret_key_base && config.upstream_secret_key && config.totp_encryption_key) {
    return {};
  }
  const auto path = std::filesystem::path{config.data_dir} / "secrets.json";
  auto stored = read_or_create(path);
  if (!stored) {
    return stored.error();
  }
  if (!config.secret_key_base) {
    if (!stored->contains("secret_key_base") || !(*stored)["secret_key_base"].is_string()) {
      return make_error(errc::config_invalid, path.string() + " has no secret_key_base");
    }
    config.secret_key_base = secret<std::string>{(*stored)["secret_key_base"].get<std::string>()};
  }
  if (!config.upstream_secret_key) {
    auto key = stored_key(*stored, "upstream_secret_key", path.string());
    if (!key) {
      return key.error();
    }
    config.upstream_secret_key = versioned_key{secret<std::string>{*key}, "v1"};
  }
  if (!config.totp_encryption_key) {
    auto key = stored_key(*stored, "totp_encryption_key", path.string());
    if (!key) {
      return key.error();
    }
    config.totp_encryption_key = versioned_key{secret<std::string>{*key}, "v1"};
  }
  return {};
}

} // namespace cxp::edge
