#include "persistence/crypto/key_hash.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "common/encoding.hpp"
#include "common/errc.hpp"

namespace cxp::persistence {

namespace {

struct kdf_deleter {
  void operator()(EVP_KDF* kdf) const noexcept { EVP_KDF_free(kdf); }
};
struct kdf_ctx_deleter {
  void operator()(EVP_KDF_CTX* ctx) const noexcept { EVP_KDF_CTX_free(ctx); }
};

// These digests fail only when OpenSSL cannot allocate or has no default provider. An empty
// result would make every token compare equal to every other, so stopping is the safe choice.
// TODO(crypto): switch to CXP_PANIC once common/ provides it.
[[noreturn]] void digest_failed(const char* what) {
  std::fputs(what, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

/// SHA-256 fetched from the default provider once. `EVP_sha256()` makes every digest call fetch
/// it again (OpenSSL 3), which cost more than hashing a short key or routing seed. Never freed:
/// OpenSSL's own exit handler may run before a static destructor would.
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) {
    digest_failed("cxp: OpenSSL has no SHA-256");
  }
  return md;
}

std::string_view as_chars(const sha256_digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

} // namespace

caf::expected<secret<std::string>> derive_key(const secret<std::string>& secret_key_base,
                                              std::string_view purpose) {
  if (secret_key_base.empty() || purpose.empty()) {
    return make_error(errc::invalid_request,
                      "derive_key: secret_key_base and purpose are required");
  }
  std::unique_ptr<EVP_KDF, kdf_deleter> kdf{EVP_KDF_fetch(nullptr, "HKDF", nullptr)};
  if (!kdf) {
    return make_error(errc::internal_error, "derive_key: OpenSSL has no HKDF");
  }
  std::unique_ptr<EVP_KDF_CTX, kdf_ctx_deleter> ctx{EVP_KDF_CTX_new(kdf.get())};
  if (!ctx) {
    return make_error(errc::internal_error, "derive_key: cannot allocate an HKDF context");
  }
  // OSSL_PARAM wants non-const pointers but only reads through them.
  char digest_name[] = "SHA256";
  auto& ikm = secret_key_base.expose();
  const std::array<OSSL_PARAM, 4> params{
    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                      ikm.size()),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(purpose.data()),
                                      purpose.size()),
    OSSL_PARAM_construct_end(),
  };
  std::string out(derived_key_bytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     params.data())
      != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return make_error(errc::internal_error, "derive_key: HKDF-SHA256 failed");
  }
  return secret<std::string>{std::move(out)};
}

std::string hmac_sha256(const secret<std::string>& key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  const auto& k = key.expose();
  if (HMAC(sha256_md(), k.data(), static_cast<int>(k.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len)
        == nullptr
      || len != sizeof(sha256_digest)) {
    digest_failed("cxp: OpenSSL HMAC-SHA256 failed");
  }
  return to_hex(std::string_view{reinterpret_cast<const char*>(mac.data()), len});
}

sha256_digest sha256(std::string_view data) {
  sha256_digest digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, sha256_md(), nullptr) != 1
      || len != digest.size()) {
    digest_failed("cxp: OpenSSL SHA-256 failed");
  }
  return digest;
}

std::string sha256_hex(std::string_view data) {
  return to_hex(as_chars(sha256(data)));
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string fingerprint(std::string_view data) {
  return "sha256:" + to_base64url(as_chars(sha256(data))).substr(0, fingerprint_chars);
}

} // namespace cxp::persistence
