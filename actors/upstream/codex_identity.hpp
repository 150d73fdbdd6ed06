#pragma once

#include <string_view>

namespace cxp::actors {

/// The Codex CLI release whose wire protocol we speak (shared/docs/codex-protocol.md). Used as
/// the synthesized client identity when the client did not present a Codex one, and as the
/// `client_version` of catalog syncs.
constexpr std::string_view codex_client_version = "0.169.0";
constexpr std::string_view codex_originator = "codex_cli_rs";
constexpr std::string_view codex_user_agent = "codex_cli_rs/0.169.0 (Linux; x86_64) codex-pooler";

} // namespace cxp::actors
