// Uploaded Codex auth.json files (the admin import, single or bulk): split into items, each
// parsed and validated (actors/admin/auth_json.cpp), and the JWT claim decoder on its own.

#include "domain/accounts/auth_json.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace domain = cxp::domain;
  const auto text = cxp::fuzz::text_of(data, size);
  if (auto claims = domain::decode_jwt_claims(text)) {
    cxp::fuzz::require(claims->is_object(), "JWT claims are an object");
    cxp::fuzz::keep(claims->dump());
  }
  auto items = domain::split_auth_json_bundle(text);
  if (!items) {
    cxp::fuzz::keep(items.error().code());
    return 0;
  }
  for (const auto& [name, item] : *items) {
    auto parsed = domain::parse_auth_json(item);
    if (!parsed) {
      cxp::fuzz::keep(parsed.error().code());
      continue;
    }
    cxp::fuzz::require(!parsed->chatgpt_account_id.empty(), "an import has an account id");
    cxp::fuzz::keep(parsed->email);
    cxp::fuzz::keep(parsed->plan_type);
    cxp::fuzz::keep(parsed->access_token_expires_at);
    cxp::fuzz::keep(name);
  }
  return 0;
}
