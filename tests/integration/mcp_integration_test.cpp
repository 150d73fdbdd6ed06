// The operator MCP endpoint on PostgreSQL with two gateway processes on one database: a token
// made through one node works on the other, and the gates (operator disabled, password change
// pending, per-operator switch, token revoked, instance setting) apply on every node. The CLI
// manages tokens and switches like the admin API.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "tests/support/admin_client.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/pooler_fixture.hpp"

using namespace cxp;
using json = nlohmann::json;

namespace {

constexpr const char* owner_email = "owner@mcp.example";
constexpr const char* owner_password = "owner passphrase 123";

const std::string ping = R"({"jsonrpc":"2.0","id":7,"method":"ping"})";

test::http_result post_mcp(uint16_t port, const std::string& token,
                           const std::string& body = ping) {
  return test::http_request(port, "POST", "/mcp", body,
                            {{"content-type", "application/json"},
                             {"accept", "application/json, text/event-stream"},
                             {"authorization", "Bearer " + token}});
}

/// The stable code of an /mcp refusal ("" for an answer).
std::string refusal_code(const test::http_result& result) {
  auto body = json::parse(result.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"]["data"].value("code", "") : "";
}

json cli_json(const test::env_vars& env, const std::vector<std::string>& args) {
  auto run = test::run_gateway_command(env, args);
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  return json::parse(run.out);
}

} // namespace

TEST_CASE("an MCP token works on every node and its operator's state applies at once everywhere",
          "[mcp]") {
  test::pooler_fixture::options opts;
  opts.start_gateway = false;
  test::pooler_fixture f{opts};
  test::gateway_process node_a{f.env()};
  test::gateway_process node_b{f.env()};

  test::admin_client owner{node_a.port()};
  REQUIRE(owner.bootstrap(owner_email, owner_password).status == 201);
  REQUIRE(owner.login(owner_email, owner_password).status == 200);
  auto created = owner.send("POST", "/admin/api/operators",
                            json{{"email", "ops@mcp.example"},
                                 {"display_name", "Ops"},
                                 {"role", "instance_admin"},
                                 {"temporary_password", "temporary pass 1"},
                                 {"pool_ids", {f.pool_id()}}});
  REQUIRE(created.status == 201);
  const std::string ops_id = json::parse(created.body)["id"];

  // The CLI makes a token for an operator that has not changed its temporary password yet.
  auto token = cli_json(f.env(), {"admin", "mcp-token", "create", "--operator", "OPS@mcp.example",
                                  "--name", "ops agent", "--expires-in-days", "30"});
  const std::string raw = token["raw_token"];
  CHECK(raw.rfind("mcp-cxp-", 0) == 0);
  CHECK(token["token"]["operator_id"] == ops_id);
  CHECK(token["token"].contains("token_hash") == false);

  CHECK(refusal_code(post_mcp(node_b.port(), raw)) == "mcp_service_disabled");
  REQUIRE(owner.send("PATCH", "/admin/api/settings", json{{"mcp.enabled", true}}).status == 200);
  // Node B learns the setting from its settings cache (a notice or the next poll).
  REQUIRE(test::eventually(
    [&] { return refusal_code(post_mcp(node_b.port(), raw)) != "mcp_service_disabled"; },
    std::chrono::seconds{20}, std::chrono::milliseconds{100}));
  CHECK(refusal_code(post_mcp(node_b.port(), raw)) == "mcp_operator_password_change_required");

  test::admin_client ops{node_a.port()};
  REQUIRE(ops.login("ops@mcp.example", "temporary pass 1").status == 200);
  REQUIRE(
    ops
      .send("POST", "/admin/api/session/password",
            json{{"current_password", "temporary pass 1"}, {"new_password", "a new passphrase 2"}})
      .status
    == 200);
  CHECK(refusal_code(post_mcp(node_b.port(), raw)) == "mcp_account_disabled");
  cli_json(f.env(), {"admin", "mcp-access", "enable", "--operator", ops_id});

  auto answer = post_mcp(node_b.port(), raw);
  CHECK(answer.status == 200);
  CHECK(json::parse(answer.body)
        == json{{"jsonrpc", "2.0"}, {"id", 7}, {"result", json::object()}});
  auto pools = post_mcp(
    node_a.port(), raw,
    R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"codex_pooler_list_pools"}})");
  REQUIRE(pools.status == 200);
  const auto listed = json::parse(pools.body)["result"]["structuredContent"]["items"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == f.pool_id());

  // Disabled through node A: node B refuses the very next request.
  REQUIRE(owner.send("PATCH", "/admin/api/operators/" + ops_id, json{{"status", "disabled"}}).status
          == 200);
  CHECK(refusal_code(post_mcp(node_b.port(), raw)) == "mcp_operator_disabled");
  REQUIRE(owner.send("PATCH", "/admin/api/operators/" + ops_id, json{{"status", "active"}}).status
          == 200);
  CHECK(post_mcp(node_b.port(), raw).status == 200);

  // Revoked through the CLI: refused on both nodes, and audited.
  auto tokens = cli_json(f.env(), {"admin", "mcp-token", "list", "--operator", ops_id});
  REQUIRE(tokens.size() == 1);
  cli_json(f.env(), {"admin", "mcp-token", "revoke", "--id", tokens[0]["id"]});
  for (auto port : {node_a.port(), node_b.port()}) {
    const auto refused = post_mcp(port, raw);
    CHECK(refused.status == 401);
    CHECK(refusal_code(refused) == "mcp_token_invalid");
  }
  auto audit = json::parse(owner.get("/admin/api/audit-logs?action=mcp_token.revoke").body);
  REQUIRE(audit["items"].size() == 1);
  CHECK(audit["items"][0]["actor_type"] == "cli");
  CHECK(audit["items"][0]["details"].dump().find(raw) == std::string::npos);
}

TEST_CASE("the token table holds hashes only, and a Pool API key is no MCP token", "[mcp]") {
  test::pooler_fixture::options opts;
  opts.database = test::backend::sqlite;
  test::pooler_fixture f{opts};
  cli_json(f.env(), {"admin", "bootstrap", "--email", owner_email, "--display-name", "Owner",
                     "--password", owner_password});
  auto created = cli_json(
    f.env(), {"admin", "mcp-token", "create", "--operator", owner_email, "--name", "laptop"});
  const std::string raw = created["raw_token"];
  cli_json(f.env(), {"admin", "settings", "set", "mcp.enabled=true"});
  cli_json(f.env(), {"admin", "mcp-access", "enable", "--operator", owner_email});

  auto& db = f.database().db();
  std::string stored_hash;
  std::string stored_prefix;
  REQUIRE(db.run([&](soci::session& sql) {
    sql << "SELECT token_hash, token_prefix FROM mcp_tokens", soci::into(stored_hash),
      soci::into(stored_prefix);
  }));
  CHECK(stored_hash.size() == 64);
  CHECK(stored_hash.find(raw.substr(21)) == std::string::npos);
  CHECK(stored_prefix == raw.substr(0, 20));

  const auto port = f.gateway().port();
  REQUIRE(test::eventually([&] { return post_mcp(port, raw).status == 200; },
                           std::chrono::seconds{20}, std::chrono::milliseconds{100}));
  CHECK(refusal_code(post_mcp(port, f.api_key())) == "mcp_token_invalid");
  CHECK(
    test::http_request(port, "POST", "/v1/responses", R"({"model":"gpt-5.5","input":"hi"})",
                       {{"content-type", "application/json"}, {"authorization", "Bearer " + raw}})
      .status
    == 401);
  auto bad =
    test::run_gateway_command(f.env(), {"admin", "mcp-token", "create", "--operator", owner_email,
                                        "--name", "x", "--expires-in-days", "400"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("expires_in_days") != std::string::npos);
}
