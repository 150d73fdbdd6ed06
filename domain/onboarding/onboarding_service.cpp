#include "domain/onboarding/onboarding_service.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/onboarding/oauth_callback.hpp"
#include "domain/onboarding/oauth_protocol.hpp"
#include "domain/onboarding/onboarding_support.hpp"
#include "persistence/accounts/account_repository.hpp"
#include "persistence/onboarding/onboarding_repository.hpp"

namespace cxp::domain {

using persistence::account_repository;
using persistence::onboarding_flow_row;
using persistence::onboarding_repository;
using persistence::unit_of_work;
using namespace onboarding_detail;

namespace {

constexpr auto poll_claim = std::chrono::seconds{60};
constexpr std::string_view device_instructions =
  "Open the verification page, sign in to ChatGPT and enter the code. The ChatGPT account must "
  "have Settings > Security > \"Enable device code authorization for Codex\" switched on "
  "(workspace accounts: the workspace admin must allow it). Device codes are a common phishing "
  "target: never share this code.";

std::string method_of(const onboarding_flow_row& row) {
  if (row.purpose == "invite") {
    return "invite";
  }
  return row.kind == "browser" ? "browser_oauth" : "device_code";
}

} // namespace

nlohmann::json to_json(const flow_view& view) {
  auto optional = [](const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  nlohmann::json out{{"id", view.id},
                     {"kind", view.kind},
                     {"purpose", view.purpose},
                     {"status", view.status},
                     {"pool_id", view.pool_id},
                     {"target_account_id", optional(view.target_account_id)},
                     {"account_id", optional(view.account_id)},
                     {"error", nullptr},
                     {"expires_at", view.expires_at},
                     {"created_at", view.created_at}};
  if (view.error_code) {
    out["error"] = {{"code", *view.error_code}, {"message", public_message(*view.error_code)}};
  }
  if (view.kind == "device") {
    out["user_code"] = optional(view.user_code);
    out["verification_url"] = optional(view.verification_url);
    out["interval_s"] = view.interval_s;
    out["instructions"] = device_instructions;
  }
  return out;
}

flow_view onboarding_service::view_of(const onboarding_flow_row& row) {
  flow_view view;
  view.id = row.id;
  view.kind = row.kind;
  view.purpose = row.purpose;
  view.status = row.status;
  view.pool_id = row.pool_id;
  view.target_account_id = row.target_account_id;
  view.account_id = row.account_id;
  view.error_code = row.error_code;
  view.expires_at = row.expires_at;
  view.created_at = row.created_at;
  if (row.kind == "device") {
    view.verification_url = oauth::verification_url(options_.issuer);
    view.interval_s = row.poll_interval_s;
    if (row.status == "pending") {
      if (auto secret = open_flow_secret(context_, row)) {
        view.user_code = secret->value("user_code", std::string{});
      }
    }
  }
  return view;
}

caf::expected<browser_start> onboarding_service::start_browser(const principal& who,
                                                               const flow_start_request& request) {
  auto pkce = oauth::make_pkce();
  onboarding_flow_row row;
  row.kind = "browser";
  row.redirect_uri = std::string{oauth::browser_redirect_uri};
  row.state_hash = hash_state(context_, pkce.state.expose());
  auto prepared = prepare_flow(context_, who, request, row);
  if (!prepared) {
    return prepared.error();
  }
  auto stored = store_new_flow(context_, who, row, {{"code_verifier", pkce.verifier.expose()}});
  if (!stored) {
    return stored.error();
  }
  return browser_start{view_of(row),
                       oauth::authorize_url(options_.issuer, pkce.challenge, pkce.state.expose())};
}

caf::expected<flow_view> onboarding_service::complete_browser(const principal& who,
                                                              const std::string& pasted) {
  auto parsed = oauth::parse_callback(pasted);
  if (!parsed) {
    audit_failure(context_, who, nullptr, parsed.error());
    return parsed.error();
  }
  const auto state_hash = hash_state(context_, parsed->state.expose());
  auto row = context_.db.transact([&](unit_of_work& sql) {
    return onboarding_repository::find_flow_by_state_in(sql, state_hash);
  });
  if (!row) {
    return row.error();
  }
  // Another operator's flow is as unknown as no flow: its existence is not theirs to learn.
  if (!*row || (*row)->kind != "browser" || (*row)->operator_id.value_or("") != who.operator_id) {
    auto error = make_error(errc::invalid_state, "no browser flow of this operator has this state");
    audit_failure(context_, who, nullptr, error);
    return error;
  }
  auto& flow = **row;
  const auto now = now_text(context_);
  if (flow.status == "superseded") {
    auto error = make_error(errc::stale_flow, "a newer flow replaced this one");
    audit_failure(context_, who, &flow, error);
    return error;
  }
  if (flow.status != "pending") {
    auto error = make_error(errc::flow_not_pending, "flow already " + flow.status);
    audit_failure(context_, who, &flow, error);
    return error;
  }
  if (flow.expires_at <= now) {
    return fail_flow(flow, "pending", make_error(errc::expired_flow, "browser flow expired"));
  }
  if (!parsed->error.empty()) {
    const bool entitlement =
      parsed->error_description.find("missing_codex_entitlement") != std::string::npos;
    return fail_flow(flow, "pending",
                     make_error(errc::provider_denied, entitlement
                                                         ? "Codex is not enabled for this workspace"
                                                         : "issuer answered " + parsed->error));
  }
  // Consumed before the network call: a second paste (or a replay) finds it no longer pending.
  auto consumed = context_.db.transact([&](unit_of_work& sql) {
    const bool won =
      onboarding_repository::transition_in(sql, flow.id, "pending", "exchanging", now);
    sql.commit();
    return won;
  });
  if (!consumed || !*consumed) {
    auto error = make_error(errc::flow_not_pending, "another request consumed this flow");
    audit_failure(context_, who, &flow, error);
    return error;
  }
  auto secret = open_flow_secret(context_, flow);
  if (!secret) {
    return fail_flow(flow, "exchanging", secret.error());
  }
  return exchange_and_import(flow, parsed->code.expose(),
                             secret->value("code_verifier", std::string{}));
}

caf::expected<flow_view> onboarding_service::start_device(const principal& who,
                                                          const flow_start_request& request) {
  onboarding_flow_row row;
  row.kind = "device";
  auto prepared = prepare_flow(context_, who, request, row);
  if (!prepared) {
    return prepared.error();
  }
  return start_device_row(who, std::move(row));
}

caf::expected<flow_view> onboarding_service::start_device_for_invite(const std::string& invite_id,
                                                                     const std::string& pool_id) {
  onboarding_flow_row row;
  row.id = new_uuid();
  row.kind = "device";
  row.purpose = "invite";
  row.pool_id = pool_id;
  row.invite_id = invite_id;
  return start_device_row(principal{}, std::move(row));
}

caf::expected<flow_view> onboarding_service::start_device_row(const principal& who,
                                                              onboarding_flow_row row) {
  row.redirect_uri = oauth::device_redirect_uri(options_.issuer);
  auto answer = transport_.post(options_.issuer + "/api/accounts/deviceauth/usercode",
                                "application/json", oauth::usercode_body());
  auto code = [&]() -> caf::expected<oauth::device_code> {
    if (answer.failed || answer.status >= 500) {
      return make_error(errc::codex_auth_transient,
                        "user-code request failed (status " + std::to_string(answer.status) + ")");
    }
    if (answer.status != 200) {
      return make_error(errc::codex_auth_unavailable,
                        "user-code request answered " + std::to_string(answer.status));
    }
    return oauth::parse_device_code(answer.body);
  }();
  if (!code) {
    audit_start_failure(context_, who, row, code.error());
    return code.error();
  }
  const auto now = context_.clock.now();
  auto deadline = now + oauth::device_deadline;
  if (code->expires_at && *code->expires_at < deadline) {
    deadline = std::max(*code->expires_at, now + code->interval);
  }
  row.expires_at = to_iso8601(deadline);
  row.poll_interval_s = code->interval.count();
  row.next_poll_at = to_iso8601(now + code->interval);
  auto stored = store_new_flow(
    context_, who, row,
    {{"device_auth_id", code->device_auth_id.expose()}, {"user_code", code->user_code.expose()}});
  if (!stored) {
    return stored.error();
  }
  return view_of(row);
}

caf::expected<flow_view> onboarding_service::get(const principal& who, const std::string& id) {
  auto row = context_.db.transact(
    [&](unit_of_work& sql) { return onboarding_repository::find_flow_in(sql, id); });
  if (!row) {
    return row.error();
  }
  if (!*row || (!who.is_owner() && (*row)->operator_id.value_or("") != who.operator_id)) {
    return make_error(errc::not_found, "onboarding flow not found");
  }
  return view_of(**row);
}

size_t onboarding_service::poll_due(int limit) {
  const auto now = context_.clock.now();
  auto due = onboarding_repository::claim_due_polls(context_.db, to_iso8601(now),
                                                    to_iso8601(now + poll_claim), limit);
  for (const auto& row : due) {
    poll_one(row);
  }
  return due.size();
}

void onboarding_service::poll_one(const onboarding_flow_row& row) {
  const auto now = context_.clock.now();
  if (row.expires_at <= to_iso8601(now)) {
    fail_flow(row, "pending",
              make_error(errc::codex_device_code_timeout, "device code not approved in time"));
    return;
  }
  auto secret = open_flow_secret(context_, row);
  if (!secret) {
    fail_flow(row, "pending", secret.error());
    return;
  }
  auto answer =
    transport_.post(options_.issuer + "/api/accounts/deviceauth/token", "application/json",
                    oauth::device_poll_body(secret->value("device_auth_id", std::string{}),
                                            secret->value("user_code", std::string{})));
  auto interval = std::chrono::seconds{row.poll_interval_s};
  auto reschedule = [&](std::chrono::seconds every) {
    (void)context_.db.transact([&](unit_of_work& sql) {
      onboarding_repository::reschedule_poll_in(sql, row.id, every.count(), to_iso8601(now + every),
                                                to_iso8601(now));
      sql.commit();
    });
  };
  if (answer.failed) {
    reschedule(interval);
    return;
  }
  auto result = oauth::classify_poll(answer.status, answer.body);
  switch (result.outcome) {
  case oauth::poll_outcome::pending:
    reschedule(interval);
    return;
  case oauth::poll_outcome::slow_down:
    reschedule(
      std::min(interval + oauth::slow_down_step, std::chrono::seconds{oauth::max_poll_interval}));
    return;
  case oauth::poll_outcome::expired:
    fail_flow(row, "pending", make_error(errc::codex_device_code_expired, "issuer: code expired"));
    return;
  case oauth::poll_outcome::denied:
    fail_flow(row, "pending", make_error(errc::codex_device_code_denied, "issuer: denied"));
    return;
  case oauth::poll_outcome::failed:
    if (answer.status >= 500) {
      reschedule(interval);
    } else {
      fail_flow(row, "pending",
                make_error(errc::codex_auth_unavailable,
                           "device poll answered " + std::to_string(answer.status)));
    }
    return;
  case oauth::poll_outcome::approved:
    break;
  }
  auto consumed = context_.db.transact([&](unit_of_work& sql) {
    const bool won =
      onboarding_repository::transition_in(sql, row.id, "pending", "exchanging", to_iso8601(now));
    sql.commit();
    return won;
  });
  if (consumed && *consumed) {
    (void)exchange_and_import(row, result.authorization_code.expose(),
                              result.code_verifier.expose());
  }
}

caf::expected<flow_view> onboarding_service::exchange_and_import(const onboarding_flow_row& row,
                                                                 const std::string& code,
                                                                 const std::string& verifier) {
  auto answer =
    transport_.post(options_.issuer + "/oauth/token", "application/x-www-form-urlencoded",
                    oauth::code_exchange_body(code, row.redirect_uri, verifier));
  if (answer.failed || answer.status != 200) {
    // Only the parsed error code is kept: the raw body may echo what we sent.
    return fail_flow(row, "exchanging",
                     make_error(errc::token_exchange_failed,
                                "token endpoint answered " + std::to_string(answer.status) + " "
                                  + oauth::error_code_of(answer.body)));
  }
  auto account = oauth::parse_token_answer(answer.body);
  if (!account) {
    return fail_flow(row, "exchanging", account.error());
  }
  if (account->chatgpt_account_id.empty()) {
    return fail_flow(row, "exchanging",
                     make_error(errc::codex_account_identity_missing, "no chatgpt_account_id"));
  }
  auto checked = check_identity(context_, row, *account);
  if (!checked) {
    return fail_flow(row, "exchanging", checked.error());
  }
  const principal& who = *checked;
  import_request request;
  request.auth_json_text = oauth::to_auth_json(*account, context_.clock.now());
  request.pool_ids = {row.pool_id};
  request.onboarding_method = method_of(row);
  auto imported = account_service{context_}.import_auth_json(who, request);
  if (!imported) {
    return fail_flow(row, "exchanging", imported.error());
  }
  auto done = finish_flow(context_, who, row, imported->account.id, imported->created);
  if (!done) {
    return done.error();
  }
  return view_of(*done);
}

caf::error onboarding_service::fail_flow(const onboarding_flow_row& row, const std::string& from,
                                         const caf::error& why) {
  record_flow_failure(context_, row, from, why);
  return why;
}

} // namespace cxp::domain
