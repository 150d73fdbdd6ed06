#include "persistence/crypto/totp.hpp"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::persistence;

namespace {

const secret<std::string> rfc_secret{"12345678901234567890"};

} // namespace

TEST_CASE("base32 encodes the RFC 4648 vectors without padding", "[unit][persistence][crypto]") {
  CHECK(to_base32("") == "");
  CHECK(to_base32("f") == "MY");
  CHECK(to_base32("fo") == "MZXQ");
  CHECK(to_base32("foo") == "MZXW6");
  CHECK(to_base32("foob") == "MZXW6YQ");
  CHECK(to_base32("fooba") == "MZXW6YTB");
  CHECK(to_base32("foobar") == "MZXW6YTBOI");
}

TEST_CASE("base32 decodes tolerantly", "[unit][persistence][crypto]") {
  CHECK(from_base32("MZXW6YTBOI") == std::optional<std::string>{"foobar"});
  CHECK(from_base32("mzxw 6ytb oi") == std::optional<std::string>{"foobar"});
  CHECK(from_base32("MZXW6YQ=") == std::optional<std::string>{"foob"});
  CHECK(from_base32("") == std::optional<std::string>{""});
  CHECK(from_base32(to_base32(rfc_secret.expose())) == rfc_secret.expose());
}

TEST_CASE("base32 rejects foreign characters and impossible lengths",
          "[unit][persistence][crypto]") {
  CHECK_FALSE(from_base32("MZXW1"));
  CHECK_FALSE(from_base32("MZ-XW"));
  CHECK_FALSE(from_base32("M"));
  CHECK_FALSE(from_base32("MZX"));
  CHECK_FALSE(from_base32("MZXW6Y"));
  CHECK_FALSE(from_base32("MZ=XW"));
}

TEST_CASE("totp_code matches the RFC 6238 SHA-1 vectors", "[unit][persistence][crypto]") {
  // Appendix B lists 8 digits; the last 6 are the 6-digit codes.
  CHECK(totp_code(rfc_secret, 59) == "287082");
  CHECK(totp_code(rfc_secret, 1111111109) == "081804");
  CHECK(totp_code(rfc_secret, 1111111111) == "050471");
  CHECK(totp_code(rfc_secret, 1234567890) == "005924");
  CHECK(totp_code(rfc_secret, 2000000000) == "279037");
  CHECK(totp_code(rfc_secret, 20000000000) == "353130");
}

TEST_CASE("totp_step is the 30 second window", "[unit][persistence][crypto]") {
  CHECK(totp_step(0) == 0);
  CHECK(totp_step(29) == 0);
  CHECK(totp_step(30) == 1);
  CHECK(totp_step(59) == 1);
  CHECK(totp_step(-1) == -1);
}

TEST_CASE("verify_totp accepts the current step and returns it", "[unit][persistence][crypto]") {
  CHECK(verify_totp(rfc_secret, "287082", 59) == std::optional<int64_t>{1});
  CHECK(verify_totp(rfc_secret, "287 082", 59) == std::optional<int64_t>{1});
}

TEST_CASE("verify_totp accepts neighbouring steps within the window only",
          "[unit][persistence][crypto]") {
  const int64_t t = 1111111109;
  const auto step = totp_step(t);
  CHECK(verify_totp(rfc_secret, totp_code(rfc_secret, t - 30), t) == step - 1);
  CHECK(verify_totp(rfc_secret, totp_code(rfc_secret, t + 30), t) == step + 1);
  CHECK_FALSE(verify_totp(rfc_secret, totp_code(rfc_secret, t - 60), t));
  CHECK_FALSE(verify_totp(rfc_secret, totp_code(rfc_secret, t - 30), t, 0));
  CHECK(verify_totp(rfc_secret, totp_code(rfc_secret, t - 60), t, 2) == step - 2);
}

TEST_CASE("verify_totp rejects wrong and malformed codes", "[unit][persistence][crypto]") {
  CHECK_FALSE(verify_totp(rfc_secret, "287083", 59));
  CHECK_FALSE(verify_totp(rfc_secret, "28708", 59));
  CHECK_FALSE(verify_totp(rfc_secret, "2870822", 59));
  CHECK_FALSE(verify_totp(rfc_secret, "28708a", 59));
  CHECK_FALSE(verify_totp(rfc_secret, "", 59));
  CHECK_FALSE(verify_totp(secret<std::string>{"another-secret-value"}, "287082", 59));
}

TEST_CASE("new_totp_secret is 20 random bytes", "[unit][persistence][crypto]") {
  const auto a = new_totp_secret();
  const auto b = new_totp_secret();
  CHECK(a.expose().size() == totp_secret_bytes);
  CHECK(a.expose() != b.expose());
}

TEST_CASE("otpauth_uri carries the base32 secret and encoded label",
          "[unit][persistence][crypto]") {
  const auto uri = otpauth_uri("Codex Pooler", "ops@example.com", rfc_secret);
  CHECK(uri.expose()
        == "otpauth://totp/Codex%20Pooler:ops%40example.com"
           "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Codex%20Pooler"
           "&algorithm=SHA1&digits=6&period=30");
}

TEST_CASE("recovery codes are distinct grouped base32", "[unit][persistence][crypto]") {
  const auto codes = new_recovery_codes();
  REQUIRE(codes.size() == 10);
  std::set<std::string> seen;
  for (const auto& code : codes) {
    const auto& text = code.expose();
    REQUIRE(text.size() == 19);
    CHECK(text[4] == '-');
    CHECK(text[9] == '-');
    CHECK(text[14] == '-');
    const auto plain = normalize_recovery_code(text);
    CHECK(plain.size() == 16);
    CHECK(from_base32(plain).value_or("").size() == recovery_code_bytes);
    seen.insert(plain);
  }
  CHECK(seen.size() == codes.size());
  CHECK(new_recovery_codes(3).size() == 3);
  CHECK(new_recovery_codes(0).empty());
}

TEST_CASE("normalize_recovery_code strips separators and upper-cases",
          "[unit][persistence][crypto]") {
  CHECK(normalize_recovery_code("abcd-efgh ijkl-mnop") == "ABCDEFGHIJKLMNOP");
  CHECK(normalize_recovery_code(" ABCD-EFGH-IJKL-MNOP\n") == "ABCDEFGHIJKLMNOP");
}
