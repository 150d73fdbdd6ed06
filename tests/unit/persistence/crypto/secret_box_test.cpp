#include "persistence/crypto/secret_box.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "common/errc.hpp"

using namespace cxp;
using namespace cxp::persistence;

namespace {

secret<std::string> key_of(char fill) {
  return secret<std::string>{std::string(secret_box_key_bytes, fill)};
}

keyring ring_v1() {
  auto ring = keyring::make({"v1", key_of('a')});
  REQUIRE(ring);
  return std::move(*ring);
}

const secret_scope token_scope{"upstream", "row-1", "access_token"};

} // namespace

TEST_CASE("make_aad is canonical sorted json without spaces", "[unit][persistence][crypto]") {
  CHECK(make_aad("upstream", "row-1", "access_token", "v1")
        == R"({"algorithm":"AES-256-GCM","key_version":"v1","purpose":"upstream",)"
           R"("row_id":"row-1","secret_kind":"access_token"})");
  CHECK(make_aad("a\"b", "c\\d", "e\nf", "v1")
        == R"({"algorithm":"AES-256-GCM","key_version":"v1","purpose":"a\"b",)"
           R"("row_id":"c\\d","secret_kind":"e\nf"})");
}

TEST_CASE("keyring rejects keys of the wrong size, bad labels and duplicates",
          "[unit][persistence][crypto]") {
  const auto short_key = keyring::make({"v1", secret<std::string>{"short"}});
  REQUIRE_FALSE(short_key);
  CHECK(to_errc(short_key.error()) == errc::invalid_request);
  CHECK(context_of(short_key.error()).find("short") == std::string::npos);
  CHECK_FALSE(keyring::make({"", key_of('a')}));
  CHECK_FALSE(keyring::make({"v.1", key_of('a')}));
  CHECK_FALSE(keyring::make({"v1", key_of('a')}, {{"v1", key_of('b')}}));
  CHECK(keyring::make({"v2", key_of('b')}, {{"v1", key_of('a')}}));
}

TEST_CASE("seal then open returns the plaintext", "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  const auto aad = make_aad("upstream", "row-1", "access_token", "v1");
  const auto sealed = seal(ring, "sk-secret-token", aad);
  REQUIRE(sealed);
  CHECK(sealed->key_version == "v1");
  CHECK(sealed->nonce.size() == secret_box_nonce_bytes);
  CHECK(sealed->ciphertext.size() == secret_box_tag_bytes + 15);
  CHECK(sealed->ciphertext.find("sk-secret-token") == std::string::npos);
  const auto opened = open(ring, *sealed, aad);
  REQUIRE(opened);
  CHECK(opened->expose() == "sk-secret-token");
}

TEST_CASE("seal and open work with a scope and with an empty plaintext",
          "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  const auto sealed = seal(ring, "", token_scope);
  REQUIRE(sealed);
  CHECK(sealed->ciphertext.size() == secret_box_tag_bytes);
  const auto opened = open(ring, *sealed, token_scope);
  REQUIRE(opened);
  CHECK(opened->expose().empty());
}

TEST_CASE("two seals of the same plaintext differ", "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  const auto a = seal(ring, "same", token_scope);
  const auto b = seal(ring, "same", token_scope);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->nonce != b->nonce);
  CHECK(a->ciphertext != b->ciphertext);
}

TEST_CASE("open with an unknown key version fails naming the version only",
          "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  auto sealed = seal(ring, "token", token_scope);
  REQUIRE(sealed);
  sealed->key_version = "v9";
  const auto opened = open(ring, *sealed, token_scope);
  REQUIRE_FALSE(opened);
  CHECK(to_errc(opened.error()) == errc::decryption_failed);
  const auto context = context_of(opened.error());
  CHECK(context.find("v9") != std::string::npos);
  CHECK(context.find(std::string(8, 'a')) == std::string::npos);
}

TEST_CASE("open fails on a tampered ciphertext, tag or nonce", "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  const auto sealed = seal(ring, "token-value", token_scope);
  REQUIRE(sealed);
  for (size_t i : {size_t{0}, secret_box_tag_bytes, sealed->ciphertext.size() - 1}) {
    auto tampered = *sealed;
    tampered.ciphertext[i] = static_cast<char>(tampered.ciphertext[i] ^ 0x01);
    const auto opened = open(ring, tampered, token_scope);
    REQUIRE_FALSE(opened);
    CHECK(to_errc(opened.error()) == errc::decryption_failed);
  }
  auto tampered = *sealed;
  tampered.nonce[0] = static_cast<char>(tampered.nonce[0] ^ 0x01);
  CHECK_FALSE(open(ring, tampered, token_scope));
  tampered = *sealed;
  tampered.ciphertext.resize(secret_box_tag_bytes - 1);
  CHECK_FALSE(open(ring, tampered, token_scope));
}

TEST_CASE("a ciphertext copied to another row or secret kind fails to open",
          "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  const auto sealed = seal(ring, "token", token_scope);
  REQUIRE(sealed);
  const auto other_row = open(ring, *sealed, secret_scope{"upstream", "row-2", "access_token"});
  REQUIRE_FALSE(other_row);
  CHECK(to_errc(other_row.error()) == errc::decryption_failed);
  CHECK_FALSE(open(ring, *sealed, secret_scope{"upstream", "row-1", "refresh_token"}));
  CHECK_FALSE(open(ring, *sealed, secret_scope{"smtp", "row-1", "access_token"}));
}

TEST_CASE("after rotation old values open and new values seal with the current key",
          "[unit][persistence][crypto]") {
  const auto old_ring = ring_v1();
  const auto old_sealed = seal(old_ring, "token", token_scope);
  REQUIRE(old_sealed);

  auto rotated = keyring::make({"v2", key_of('b')}, {{"v1", key_of('a')}});
  REQUIRE(rotated);
  CHECK(rotated->current_version() == "v2");
  CHECK(needs_reseal(*rotated, *old_sealed));
  const auto opened = open(*rotated, *old_sealed, token_scope);
  REQUIRE(opened);
  CHECK(opened->expose() == "token");

  const auto resealed = seal(*rotated, opened->expose(), token_scope);
  REQUIRE(resealed);
  CHECK(resealed->key_version == "v2");
  CHECK_FALSE(needs_reseal(*rotated, *resealed));
  CHECK_FALSE(open(old_ring, *resealed, token_scope));
  const auto reopened = open(*rotated, *resealed, token_scope);
  REQUIRE(reopened);
  CHECK(reopened->expose() == "token");
}

TEST_CASE("a value sealed under one key does not open under another key of the same version",
          "[unit][persistence][crypto]") {
  const auto sealed = seal(ring_v1(), "token", token_scope);
  REQUIRE(sealed);
  auto other = keyring::make({"v1", key_of('z')});
  REQUIRE(other);
  CHECK_FALSE(open(*other, *sealed, token_scope));
}

TEST_CASE("storage text round trips", "[unit][persistence][crypto]") {
  const auto ring = ring_v1();
  const auto sealed = seal(ring, "token", token_scope);
  REQUIRE(sealed);
  const auto text = to_storage(*sealed);
  CHECK(text.rfind("v1.", 0) == 0);
  CHECK(text.find_first_of("+/= ") == std::string::npos);
  const auto parsed = from_storage(text);
  REQUIRE(parsed);
  CHECK(parsed->key_version == sealed->key_version);
  CHECK(parsed->nonce == sealed->nonce);
  CHECK(parsed->ciphertext == sealed->ciphertext);
  const auto opened = open(ring, *parsed, token_scope);
  REQUIRE(opened);
  CHECK(opened->expose() == "token");
}

TEST_CASE("malformed storage text is rejected", "[unit][persistence][crypto]") {
  const auto sealed = seal(ring_v1(), "token", token_scope);
  REQUIRE(sealed);
  const auto text = to_storage(*sealed);
  const auto first = text.find('.');
  const auto second = text.find('.', first + 1);
  const auto nonce = text.substr(first + 1, second - first - 1);
  const auto body = text.substr(second + 1);

  const std::string bad_texts[] = {
    "",
    "v1",
    "v1." + nonce,
    "v1." + nonce + "." + body + ".x",
    "." + nonce + "." + body,
    "v 1." + nonce + "." + body,
    "v1." + nonce + "=." + body,
    "v1." + nonce + "." + body + "!",
    "v1." + nonce + "." + body + "=",
    "v1.AAAA." + body,
    "v1." + nonce + ".AAAA",
  };
  for (const auto& bad : bad_texts) {
    const auto parsed = from_storage(bad);
    CHECK_FALSE(parsed);
    if (!parsed) {
      CHECK(to_errc(parsed.error()) == errc::decryption_failed);
    }
  }
}
