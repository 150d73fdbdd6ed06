#include "persistence/crypto/secret_box.hpp"

#include <climits>
#include <memory>
#include <optional>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/encoding.hpp"
#include "common/errc.hpp"

namespace cxp::persistence {

namespace {

constexpr std::string_view aad_algorithm = "AES-256-GCM";
constexpr char storage_separator = '.';

struct cipher_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_deleter>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

bool is_valid_key_version(std::string_view version) {
  if (version.empty() || version.size() > max_key_version_length) {
    return false;
  }
  for (char c : version) {
    if (!is_base64url_char(c)) {
      return false;
    }
  }
  return true;
}

bool fits_int(size_t n) {
  return n <= static_cast<size_t>(INT_MAX);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr std::string_view hex = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c == '\b') {
      out.append("\\b");
    } else if (c == '\f') {
      out.append("\\f");
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0x0f]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// Only the canonical spelling is accepted, so each sealed value has exactly one storage text.
std::optional<std::string> from_canonical_base64url(std::string_view text) {
  for (char c : text) {
    if (!is_base64url_char(c)) {
      return std::nullopt;
    }
  }
  auto decoded = from_base64(text);
  if (!decoded || to_base64url(*decoded) != text) {
    return std::nullopt;
  }
  return decoded;
}

caf::error open_failed(std::string_view version, std::string_view why) {
  return make_error(errc::decryption_failed, "secret_box: " + std::string{why} + " (key version '"
                                               + std::string{version} + "')");
}

} // namespace

caf::expected<keyring> keyring::make(versioned_key current, std::vector<versioned_key> previous) {
  std::vector<versioned_key> keys;
  keys.reserve(previous.size() + 1);
  keys.push_back(std::move(current));
  for (auto& key : previous) {
    keys.push_back(std::move(key));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& version = keys[i].version;
    if (!is_valid_key_version(version)) {
      // A malformed label may be a key pasted into the wrong setting, so it is not echoed.
      return make_error(errc::invalid_request,
                        "keyring: key version labels must be 1-32 characters of [A-Za-z0-9_-]");
    }
    if (keys[i].key.expose().size() != secret_box_key_bytes) {
      return make_error(errc::invalid_request,
                        "keyring: key version '" + version + "' is not 32 bytes long");
    }
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].version == version) {
        return make_error(errc::invalid_request,
                          "keyring: key version '" + version + "' appears twice");
      }
    }
  }
  return keyring{std::move(keys)};
}

keyring::keyring(std::vector<versioned_key> keys) : keys_(std::move(keys)) {}

const std::string& keyring::current_version() const noexcept {
  return keys_.front().version;
}

const secret<std::string>* keyring::find(std::string_view version) const noexcept {
  for (const auto& key : keys_) {
    if (key.version == version) {
      return &key.key;
    }
  }
  return nullptr;
}

std::string make_aad(std::string_view purpose, std::string_view row_id,
                     std::string_view secret_kind, std::string_view key_version) {
  std::string out;
  out.reserve(96 + purpose.size() + row_id.size() + secret_kind.size() + key_version.size());
  out.append("{\"algorithm\":");
  append_json_string(out, aad_algorithm);
  out.append(",\"key_version\":");
  append_json_string(out, key_version);
  out.append(",\"purpose\":");
  append_json_string(out, purpose);
  out.append(",\"row_id\":");
  append_json_string(out, row_id);
  out.append(",\"secret_kind\":");
  append_json_string(out, secret_kind);
  out.push_back('}');
  return out;
}

caf::expected<sealed_secret> seal(const keyring& ring, std::string_view plaintext,
                                  std::string_view aad) {
  if (!fits_int(plaintext.size()) || !fits_int(aad.size() + secret_box_tag_bytes)) {
    return make_error(errc::invalid_request, "secret_box: plaintext or aad too large");
  }
  const auto* key = ring.find(ring.current_version());
  sealed_secret out;
  out.key_version = ring.current_version();
  out.nonce = random_bytes(secret_box_nonce_bytes);
  out.ciphertext.assign(secret_box_tag_bytes + plaintext.size(), '\0');

  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  int final_len = 0;
  const bool ok =
    ctx != nullptr
    && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
    && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                           static_cast<int>(secret_box_nonce_bytes), nullptr)
         == 1
    && EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key->expose()), bytes_of(out.nonce))
         == 1
    && (aad.empty()
        || EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size()))
             == 1)
    && (plaintext.empty()
        || EVP_EncryptUpdate(ctx.get(), bytes_of(out.ciphertext) + secret_box_tag_bytes, &len,
                             bytes_of(plaintext), static_cast<int>(plaintext.size()))
             == 1)
    && EVP_EncryptFinal_ex(
         ctx.get(), bytes_of(out.ciphertext) + secret_box_tag_bytes + (plaintext.empty() ? 0 : len),
         &final_len)
         == 1
    && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(secret_box_tag_bytes),
                           bytes_of(out.ciphertext))
         == 1;
  if (!ok) {
    OPENSSL_cleanse(out.ciphertext.data(), out.ciphertext.size());
    return make_error(errc::internal_error, "secret_box: OpenSSL AES-256-GCM encryption failed");
  }
  return out;
}

caf::expected<sealed_secret> seal(const keyring& ring, std::string_view plaintext,
                                  const secret_scope& scope) {
  return seal(ring, plaintext,
              make_aad(scope.purpose, scope.row_id, scope.secret_kind, ring.current_version()));
}

caf::expected<secret<std::string>> open(const keyring& ring, const sealed_secret& sealed,
                                        std::string_view aad) {
  const auto* key = ring.find(sealed.key_version);
  if (key == nullptr) {
    return open_failed(sealed.key_version, "unknown key version");
  }
  if (sealed.nonce.size() != secret_box_nonce_bytes
      || sealed.ciphertext.size() < secret_box_tag_bytes) {
    return open_failed(sealed.key_version, "malformed nonce or ciphertext");
  }
  if (!fits_int(sealed.ciphertext.size()) || !fits_int(aad.size())) {
    return open_failed(sealed.key_version, "ciphertext or aad too large");
  }
  const auto body = std::string_view{sealed.ciphertext}.substr(secret_box_tag_bytes);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer, so the tag is copied.
  std::string tag = sealed.ciphertext.substr(0, secret_box_tag_bytes);
  std::string plaintext(body.size(), '\0');

  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  int final_len = 0;
  const bool ok =
    ctx != nullptr
    && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
    && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                           static_cast<int>(secret_box_nonce_bytes), nullptr)
         == 1
    && EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key->expose()),
                          bytes_of(sealed.nonce))
         == 1
    && (aad.empty()
        || EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size()))
             == 1)
    && (body.empty()
        || EVP_DecryptUpdate(ctx.get(), bytes_of(plaintext), &len, bytes_of(body),
                             static_cast<int>(body.size()))
             == 1)
    && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(secret_box_tag_bytes),
                           tag.data())
         == 1
    && EVP_DecryptFinal_ex(ctx.get(), bytes_of(plaintext) + (body.empty() ? 0 : len), &final_len)
         == 1;
  if (!ok) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return open_failed(sealed.key_version, "authentication failed");
  }
  return secret<std::string>{std::move(plaintext)};
}

caf::expected<secret<std::string>> open(const keyring& ring, const sealed_secret& sealed,
                                        const secret_scope& scope) {
  return open(ring, sealed,
              make_aad(scope.purpose, scope.row_id, scope.secret_kind, sealed.key_version));
}

bool needs_reseal(const keyring& ring, const sealed_secret& sealed) {
  return sealed.key_version != ring.current_version();
}

std::string to_storage(const sealed_secret& sealed) {
  return sealed.key_version + storage_separator + to_base64url(sealed.nonce) + storage_separator
         + to_base64url(sealed.ciphertext);
}

caf::expected<sealed_secret> from_storage(std::string_view text) {
  const auto first = text.find(storage_separator);
  const auto second =
    first == std::string_view::npos ? first : text.find(storage_separator, first + 1);
  if (second == std::string_view::npos
      || text.find(storage_separator, second + 1) != std::string_view::npos) {
    return make_error(errc::decryption_failed, "secret_box: stored secret is not in three parts");
  }
  const auto version = text.substr(0, first);
  if (!is_valid_key_version(version)) {
    return make_error(errc::decryption_failed, "secret_box: stored key version is malformed");
  }
  auto nonce = from_canonical_base64url(text.substr(first + 1, second - first - 1));
  auto ciphertext = from_canonical_base64url(text.substr(second + 1));
  if (!nonce || !ciphertext) {
    return open_failed(version, "stored secret is not canonical base64url");
  }
  if (nonce->size() != secret_box_nonce_bytes || ciphertext->size() < secret_box_tag_bytes) {
    return open_failed(version, "stored nonce or ciphertext has the wrong size");
  }
  return sealed_secret{std::string{version}, std::move(*nonce), std::move(*ciphertext)};
}

} // namespace cxp::persistence
