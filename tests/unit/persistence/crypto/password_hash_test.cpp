#include "persistence/crypto/password_hash.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace cxp::persistence;

// Each Argon2id hash costs about 50 ms, so these tests share hashes where they can.

TEST_CASE("a hashed password verifies and a wrong one does not", "[unit][persistence][crypto]") {
  const auto encoded = hash_password("correct horse battery staple");
  REQUIRE(encoded);
  CHECK(encoded->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);
  CHECK(verify_password(*encoded, "correct horse battery staple"));
  CHECK_FALSE(verify_password(*encoded, "correct horse battery stapler"));
  CHECK_FALSE(needs_rehash(*encoded));
}

TEST_CASE("hashing the same password twice uses different salts", "[unit][persistence][crypto]") {
  const auto a = hash_password("pw");
  const auto b = hash_password("pw");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);
}

TEST_CASE("a malformed or non-argon2id encoded hash never verifies",
          "[unit][persistence][crypto]") {
  CHECK_FALSE(verify_password("", "pw"));
  CHECK_FALSE(verify_password("not a hash", "pw"));
  CHECK_FALSE(verify_password("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAA", "pw"));
  CHECK_FALSE(verify_password(std::string{"$argon2id\0$v=19", 15}, "pw"));
}

TEST_CASE("hashes with other parameters need a rehash", "[unit][persistence][crypto]") {
  CHECK(needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$AAAA"));
  CHECK(needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAA"));
  CHECK(needs_rehash(""));
}

TEST_CASE("dummy_verify returns after doing the work", "[unit][persistence][crypto]") {
  dummy_verify("unknown-user-password");
  SUCCEED();
}
