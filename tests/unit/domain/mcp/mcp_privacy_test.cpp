#include "domain/mcp/mcp_privacy.hpp"

#include <catch2/catch.hpp>

using cxp::domain::mask_email;
using cxp::domain::mask_ip;
using cxp::domain::sanitize_for_mcp;
using nlohmann::json;

TEST_CASE("emails keep their first character and domain", "[mcp]") {
  CHECK(mask_email("jane.doe@example.com") == "j***@example.com");
  CHECK(mask_email("x@y.io") == "x***@y.io");
  CHECK(mask_email("not-an-address") == "***");
  CHECK(mask_email("@example.com") == "***");
}

TEST_CASE("client addresses keep their network half", "[mcp]") {
  CHECK(mask_ip("203.0.113.77") == "203.0.*.*");
  CHECK(mask_ip("2001:db8:85a3::8a2e:370:7334") == "2001:db8:*");
  CHECK(mask_ip("unix-socket") == "***");
}

TEST_CASE("sanitizing drops secret members wherever they are nested", "[mcp]") {
  const json input = {{"id", "a1"},
                      {"token_hash", "deadbeef"},
                      {"nested",
                       {{"access_token", "eyJx"},
                        {"refresh_token", "rt"},
                        {"totp_secret", "JBSW"},
                        {"password", "hunter2hunter2"},
                        {"admin_password", "x"},
                        {"secret_ciphertext", "v1:..."},
                        {"password_change_required", true},
                        {"input_tokens", 12}}},
                      {"list", json::array({{{"raw_key", "k"}, {"name", "n"}}})}};
  const auto out = sanitize_for_mcp(input);
  CHECK(out
        == json{{"id", "a1"},
                {"nested", {{"password_change_required", true}, {"input_tokens", 12}}},
                {"list", json::array({{{"name", "n"}}})}});
}

TEST_CASE("sanitizing masks addresses in email members and inside any text", "[mcp]") {
  const json input = {{"email", "owner@example.com"},
                      {"label", "shared with ops@corp.example and bob@corp.example"},
                      {"details", {{"invitee", "new.admin@example.org"}}},
                      {"note", "a@b is not an address"}};
  const auto out = sanitize_for_mcp(input);
  CHECK(out["email"] == "o***@example.com");
  CHECK(out["label"] == "shared with o***@corp.example and b***@corp.example");
  CHECK(out["details"]["invitee"] == "n***@example.org");
  CHECK(out["note"] == "a@b is not an address");
}

TEST_CASE("sanitizing masks client addresses and hashes ChatGPT ids", "[mcp]") {
  const auto out = sanitize_for_mcp({{"client_ip", "198.51.100.4"},
                                     {"chatgpt_account_id", "acct-123"},
                                     {"chatgpt_user_id", "user-9"}});
  CHECK(out["client_ip"] == "198.51.*.*");
  CHECK(out["chatgpt_account_id"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(out["chatgpt_account_id"].get<std::string>().size() == 15);
  CHECK(out["chatgpt_account_id"] != out["chatgpt_user_id"]);
}

TEST_CASE("a full credential or a JWT in any string is redacted, a prefix is not", "[mcp]") {
  const std::string raw_key = "sk-cxp-0123456789ab-" + std::string(43, 'A');
  const std::string raw_token = "mcp-cxp-0123456789ab-" + std::string(43, 'b');
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2ln";
  const auto out = sanitize_for_mcp({{"a", raw_key},
                                     {"b", "leaked " + raw_token},
                                     {"c", jwt},
                                     {"key_prefix", "sk-cxp-0123456789ab"}});
  CHECK(out["a"] == "[redacted]");
  CHECK(out["b"] == "[redacted]");
  CHECK(out["c"] == "[redacted]");
  CHECK(out["key_prefix"] == "sk-cxp-0123456789ab");
}
