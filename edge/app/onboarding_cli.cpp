#include "edge/app/onboarding_cli.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/onboarding/oauth_http_transport.hpp"
#include "common/encoding.hpp"
#include "common/json_input.hpp"
#include "domain/onboarding/onboarding_service.hpp"
#include "domain/onboarding/upstream_invite_service.hpp"

namespace cxp::edge {

const char* const onboarding_cli_usage =
  R"(  account signin --pool POOL_ID [--account ACCOUNT_ID] [--no-wait]
                                   browser sign-in: open the printed URL, sign in, then paste the
                                   http://localhost:1455/auth/callback?... address on stdin
                                   (--account relinks; --no-wait prints the URL and exits)
  account signin-complete          reads a pasted callback URL on stdin (after --no-wait)
  account device-login --pool POOL_ID [--account ACCOUNT_ID]
                                   device code: enter the printed code at the printed URL;
                                   waits (up to 15 min) until the account is added
  upstream-invite create --pool POOL_ID --email EMAIL
                                   prints the invite link path once (/onboarding/invites/...)
  upstream-invite list [--pool POOL_ID]
  upstream-invite revoke|reissue --id INVITE_ID
)";

namespace {

using nlohmann::json;
using namespace domain;

constexpr auto issuer_timeout = std::chrono::seconds{30};
constexpr auto wait_step = std::chrono::seconds{1};
constexpr auto wait_limit = std::chrono::minutes{16};

std::optional<std::string> flag(const std::multimap<std::string, std::string>& flags,
                                const std::string& name) {
  auto it = flags.find(name);
  return it == flags.end() ? std::nullopt : std::optional<std::string>{it->second};
}

int report(const caf::error& error) {
  std::fprintf(stderr, "codex-pooler: %s\n", std::string{to_string(to_errc(error))}.c_str());
  return 1;
}

template <class T>
int print(const caf::expected<T>& result) {
  if (!result) {
    return report(result.error());
  }
  std::cout << printable_json(to_json(*result)) << "\n";
  return 0;
}

int print_invite(const caf::expected<created_upstream_invite>& created) {
  if (!created) {
    return report(created.error());
  }
  std::cout << printable_json(json{{"invite", to_json(created->invite)},
                                   {"token", created->token.expose()},
                                   {"path", created->path}})
            << "\n";
  return 0;
}

std::string read_line() {
  std::string line;
  std::getline(std::cin, line);
  return line;
}

} // namespace

std::optional<int> run_onboarding_cli(const boot_config& config, service_context& context,
                                      const std::string& command,
                                      const std::multimap<std::string, std::string>& flags) {
  static const std::vector<std::string> commands{
    "account signin",         "account signin-complete", "account device-login",
    "upstream-invite create", "upstream-invite list",    "upstream-invite revoke",
    "upstream-invite reissue"};
  if (std::find(commands.begin(), commands.end(), command) == commands.end()) {
    return std::nullopt;
  }
  principal who;
  who.type = principal::kind::cli;
  auto client = std::make_shared<actors::upstream_client>();
  actors::oauth_http_transport transport{client, issuer_timeout};
  const onboarding_options options{config.oauth_issuer_url};
  onboarding_service flows{context, options, transport};
  upstream_invite_service invites{context, flows};
  const flow_start_request request{flag(flags, "pool").value_or(""), flag(flags, "account")};
  if (command == "account signin") {
    auto started = flows.start_browser(who, request);
    if (!started) {
      return report(started.error());
    }
    if (flags.count("no-wait") > 0) {
      std::cout << printable_json(
        json{{"flow", to_json(started->flow)}, {"authorize_url", started->authorize_url}})
                << "\n";
      return 0;
    }
    std::fprintf(stderr,
                 "Open this URL in a browser, sign in, then paste the address the browser lands "
                 "on (http://localhost:1455/auth/callback?...; the page itself may not load):\n\n"
                 "%s\n\ncallback URL: ",
                 started->authorize_url.c_str());
    return print(flows.complete_browser(who, read_line()));
  }
  if (command == "account signin-complete") {
    return print(flows.complete_browser(who, read_line()));
  }
  if (command == "account device-login") {
    auto started = flows.start_device(who, request);
    if (!started) {
      return report(started.error());
    }
    std::fprintf(stderr, "Open %s and enter the code %s\n%s\nWaiting for approval...\n",
                 started->verification_url.value_or("").c_str(),
                 started->user_code.value_or("").c_str(),
                 to_json(*started)["instructions"].get<std::string>().c_str());
    const auto deadline = std::chrono::steady_clock::now() + wait_limit;
    auto flow = caf::expected<flow_view>{*started};
    while (flow && (flow->status == "pending" || flow->status == "exchanging")
           && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(wait_step);
      flows.poll_due();
      flow = flows.get(who, started->id);
    }
    const auto failed = !flow || flow->status != "completed";
    const auto code = print(flow);
    return failed ? 1 : code;
  }
  if (command == "upstream-invite create") {
    return print_invite(
      invites.create(who, flag(flags, "pool").value_or(""), flag(flags, "email").value_or("")));
  }
  if (command == "upstream-invite list") {
    auto listed = invites.list(who, flag(flags, "pool"));
    if (!listed) {
      return report(listed.error());
    }
    json items = json::array();
    for (const auto& invite : *listed) {
      items.push_back(to_json(invite));
    }
    std::cout << printable_json(items) << "\n";
    return 0;
  }
  if (command == "upstream-invite revoke") {
    return print(invites.revoke(who, flag(flags, "id").value_or("")));
  }
  return print_invite(invites.reissue(who, flag(flags, "id").value_or("")));
}

} // namespace cxp::edge
