#include "persistence/crypto/key_hash.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "common/encoding.hpp"
#include "common/errc.hpp"

using namespace cxp;
using namespace cxp::persistence;

TEST_CASE("hmac_sha256 matches RFC 4231 test case 2", "[unit][persistence][crypto]") {
  CHECK(hmac_sha256(secret<std::string>{"Jefe"}, "what do ya want for nothing?")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("sha256_hex matches the FIPS 180-2 examples", "[unit][persistence][crypto]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("derive_key is HKDF-SHA256 without salt and with the purpose as info",
          "[unit][persistence][crypto]") {
  // Expected value from an independent HMAC-based HKDF that reproduces RFC 5869 test case 3.
  const auto key =
    derive_key(secret<std::string>{"test-secret-key-base-0123456789abcdef"}, "pool_api_key");
  REQUIRE(key);
  CHECK(key->expose().size() == derived_key_bytes);
  CHECK(to_hex(key->expose())
        == "18b5496091ff6b6b7223dacaf6b95d1bdb9d7bd7e048854978cc40e559a6e72b");
}

TEST_CASE("derive_key is deterministic", "[unit][persistence][crypto]") {
  const secret<std::string> base{"base-secret"};
  const auto a = derive_key(base, "session_token");
  const auto b = derive_key(base, "session_token");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->expose() == b->expose());
}

TEST_CASE("derive_key separates purposes and bases", "[unit][persistence][crypto]") {
  const secret<std::string> base{"base-secret"};
  const auto api = derive_key(base, "pool_api_key");
  const auto session = derive_key(base, "session_token");
  const auto other_base = derive_key(secret<std::string>{"other-secret"}, "pool_api_key");
  REQUIRE(api);
  REQUIRE(session);
  REQUIRE(other_base);
  CHECK(api->expose() != session->expose());
  CHECK(api->expose() != other_base->expose());
  CHECK(hmac_sha256(*api, "cxp_token") != hmac_sha256(*session, "cxp_token"));
}

TEST_CASE("derive_key rejects an empty base or purpose", "[unit][persistence][crypto]") {
  const auto no_base = derive_key(secret<std::string>{}, "pool_api_key");
  REQUIRE_FALSE(no_base);
  CHECK(to_errc(no_base.error()) == errc::invalid_request);
  CHECK_FALSE(derive_key(secret<std::string>{"base"}, ""));
}

TEST_CASE("constant_time_equals compares content and length", "[unit][persistence][crypto]") {
  CHECK(constant_time_equals("abc", "abc"));
  CHECK(constant_time_equals("", ""));
  CHECK_FALSE(constant_time_equals("abc", "abd"));
  CHECK_FALSE(constant_time_equals("abc", "abcd"));
  CHECK_FALSE(constant_time_equals("", "a"));
  CHECK(constant_time_equals(std::string{"a\0b", 3}, std::string{"a\0b", 3}));
  CHECK_FALSE(constant_time_equals(std::string{"a\0b", 3}, std::string{"a\0c", 3}));
}

TEST_CASE("fingerprint is a short stable sha256 prefix", "[unit][persistence][crypto]") {
  // base64url(SHA-256("abc")) starts with "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0".
  CHECK(fingerprint("abc") == "sha256:ungWv48Bz-pB");
  CHECK(fingerprint("abc").size() == 7 + fingerprint_chars);
  CHECK(fingerprint("abd") != fingerprint("abc"));
}
