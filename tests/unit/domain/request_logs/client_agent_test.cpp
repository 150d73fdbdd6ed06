#include "domain/request_logs/client_agent.hpp"

#include <catch2/catch.hpp>

using namespace cxp::domain;

TEST_CASE("a user agent is reduced to a bounded client family and version",
          "[unit][domain][request_logs]") {
  struct row {
    const char* header;
    const char* family;
    const char* version;
  };
  const auto [header, family, version] = GENERATE(
    row{"codex_cli_rs/0.171.0 (Ubuntu 22.4.0; x86_64) xterm-256color", "codex_cli_rs", "0.171.0"},
    row{"codex_exec/0.171.0 (Mac OS 15.1.0; arm64) unknown", "codex_exec", "0.171.0"},
    row{"codex_vscode/0.4.12", "codex_vscode", "0.4.12"},
    row{"OpenAI/Python 1.52.0", "openai-python", "1.52.0"},
    row{"OpenAI/JS 4.67.3", "openai-node", "4.67.3"},
    row{"ai-sdk/openai/2.0.1 ai-sdk/provider-utils/3.0.0 runtime/node.js/22", "ai-sdk", "2.0.1"},
    row{"ai/5.0.0", "ai-sdk", "5.0.0"}, row{"curl/8.5.0", "curl", "8.5.0"},
    row{"Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0", "unknown", ""}, row{"", "unknown", ""},
    row{"codex_cli_rs", "codex_cli_rs", ""},
    // A version that is not a plain one is left out rather than stored.
    row{"codex_cli_rs/<script>", "codex_cli_rs", ""},
    row{"curl/1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17", "curl", ""},
    // A codex-looking name that is not a bounded word is unknown.
    row{"Codex-CLI/1.0", "unknown", ""},
    row{"codex_a_very_long_originator_name_that_goes_on/1.0", "unknown", ""},
    row{"OpenAI/Py$hon 1.0", "unknown", ""});
  CAPTURE(header);
  const auto agent = parse_client_agent(header);
  CHECK(agent.family == family);
  CHECK(agent.version == version);
}

TEST_CASE("a client label is family/version and splits back", "[unit][domain][request_logs]") {
  CHECK(client_label({"codex_cli_rs", "0.171.0"}) == "codex_cli_rs/0.171.0");
  CHECK(client_label({"unknown", ""}) == "unknown");
  const auto back = split_client_label("openai-python/1.52.0");
  CHECK(back.family == "openai-python");
  CHECK(back.version == "1.52.0");
  CHECK(split_client_label("curl").version.empty());
}
