#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "domain/admin_context.hpp"
#include "domain/operators/invite_service.hpp"
#include "domain/operators/login_throttle.hpp"
#include "domain/operators/operator_credentials.hpp"
#include "domain/operators/operator_service.hpp"
#include "domain/operators/operator_sessions.hpp"
#include "domain/settings/settings_service.hpp"
#include "persistence/audit/audit_repository.hpp"
#include "persistence/crypto/key_hash.hpp"
#include "persistence/crypto/secret_box.hpp"
#include "persistence/crypto/totp.hpp"
#include "persistence/db/row_reader.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using namespace cxp::domain;
using namespace std::chrono_literals;
using test::backend;

namespace {

constexpr auto owner_email = "Owner@Example.com";
constexpr auto owner_password = "correct horse battery staple";

persistence::keyring make_ring(const std::string& version) {
  auto ring = persistence::keyring::make({version, secret<std::string>{random_bytes(32)}});
  REQUIRE(ring);
  return std::move(*ring);
}

secret<std::string> make_key(const char* purpose) {
  auto key =
    persistence::derive_key(secret<std::string>{"operators-test-secret-key-base"}, purpose);
  REQUIRE(key);
  return std::move(*key);
}

/// A migrated database, a manual clock and an operator service wired like the server does.
struct fixture {
  explicit fixture(backend kind, login_throttle_config limits = {1000, 15min, 1000, 15min})
      : database(kind),
        upstream_keys(make_ring("v1")),
        totp_keys(make_ring("t1")),
        context{database.db(),
                clock,
                upstream_keys,
                totp_keys,
                make_key("pool-api-key"),
                make_key("operator-token")},
        throttle(limits),
        service(context),
        sessions(context, throttle),
        credentials(context),
        invites(context) {}

  int64_t unix_now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  }

  operator_view bootstrap_owner() {
    auto owner = service.bootstrap(principal{}, {owner_email, owner_password, "The Owner"});
    REQUIRE(owner);
    return *owner;
  }

  login_result login_as(const std::string& email, const std::string& password,
                        std::optional<std::string> totp = std::nullopt,
                        std::optional<std::string> recovery = std::nullopt) {
    auto result = sessions.login({email, password, totp, recovery, "198.51.100.7", "test-agent"});
    REQUIRE(result);
    return std::move(*result);
  }

  principal principal_of(const login_result& login) {
    auto session = sessions.authenticate_session(login.tokens.session_token.expose());
    REQUIRE(session);
    return session->who;
  }

  std::string add_pool(const std::string& slug) {
    const auto id = new_uuid();
    const auto now = to_iso8601(clock.now());
    REQUIRE(database.db().run([&](soci::session& sql) {
      sql << "INSERT INTO pools (id, slug, name, created_at, updated_at) VALUES (:id, :slug, "
             ":name, :c, :u)",
        soci::use(id), soci::use(slug), soci::use(slug), soci::use(now), soci::use(now);
    }));
    return id;
  }

  size_t count_audit(const std::string& action, const std::string& outcome) {
    persistence::audit_filter filter;
    filter.action = action;
    filter.limit = 200;
    auto events = persistence::audit_repository{database.db()}.list(filter);
    REQUIRE(events);
    return static_cast<size_t>(std::count_if(events->begin(), events->end(),
                                             [&](const auto& e) { return e.outcome == outcome; }));
  }

  test::test_database database;
  manual_clock clock;
  persistence::keyring upstream_keys;
  persistence::keyring totp_keys;
  service_context context;
  login_throttle throttle;
  operator_service service;
  operator_sessions sessions;
  operator_credentials credentials;
  invite_service invites;
};

principal cli_principal() {
  principal who;
  who.type = principal::kind::cli;
  return who;
}

errc code_of(const caf::error& err) {
  return to_errc(err);
}

} // namespace

TEST_CASE("bootstrap creates the first owner once and conflicts afterwards",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  REQUIRE(f.service.bootstrap_status() == std::string{"pending"});

  auto weak = f.service.bootstrap(principal{}, {"not-an-email", "short", ""});
  REQUIRE_FALSE(weak);
  CHECK(code_of(weak.error()) == errc::validation_failed);
  const auto fields = field_errors_of(weak.error());
  CHECK(fields.count("password") == 1);
  CHECK(fields.count("email") == 1);
  CHECK(fields.count("display_name") == 1);
  CHECK(f.service.bootstrap_status() == std::string{"pending"});

  const auto owner = f.bootstrap_owner();
  CHECK(owner.email == "owner@example.com");
  CHECK(owner.role == "instance_owner");
  CHECK(owner.status == "active");
  CHECK_FALSE(owner.password_change_required);
  CHECK(f.service.bootstrap_status() == std::string{"completed"});

  auto again =
    f.service.bootstrap(principal{}, {"second@example.com", "another long password", "Second"});
  REQUIRE_FALSE(again);
  CHECK(code_of(again.error()) == errc::conflict);
  CHECK(f.count_audit("operator.bootstrap", "success") == 1);
}

TEST_CASE("login accepts the right password and rejects a wrong one and an unknown email alike",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto owner = f.bootstrap_owner();

  auto ok = f.login_as("  OWNER@example.com ", owner_password);
  CHECK(ok.user.id == owner.id);
  CHECK(ok.user.last_login_at.has_value());
  CHECK(ok.tokens.session_token.expose().size() >= 40);
  CHECK(ok.tokens.csrf_token.expose().size() >= 40);
  CHECK(ok.tokens.session_token.expose() != ok.tokens.csrf_token.expose());
  CHECK(ok.tokens.expires_at == to_iso8601(f.clock.now() + 14 * 24h));

  auto wrong = f.sessions.login({owner_email, "wrong password 123", {}, {}, "198.51.100.7", ""});
  REQUIRE_FALSE(wrong);
  CHECK(code_of(wrong.error()) == errc::unauthenticated);
  auto unknown =
    f.sessions.login({"nobody@example.com", owner_password, {}, {}, "198.51.100.7", ""});
  REQUIRE_FALSE(unknown);
  CHECK(code_of(unknown.error()) == errc::unauthenticated);
  CHECK(caf::to_string(wrong.error()) == caf::to_string(unknown.error()));
  CHECK_FALSE(is_totp_required(wrong.error()));

  CHECK(f.count_audit("auth.login", "success") == 1);
  CHECK(f.count_audit("auth.login", "failure") == 2);
}

TEST_CASE("after the lockout even the correct password is rate limited",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind, login_throttle_config{}};
  f.bootstrap_owner();
  for (int i = 0; i < 5; ++i) {
    auto wrong = f.sessions.login(
      {owner_email, "wrong password " + std::to_string(i), {}, {}, "203.0.113.9", ""});
    REQUIRE_FALSE(wrong);
    CHECK(code_of(wrong.error()) == errc::unauthenticated);
  }
  // The right password from a fresh IP: the account lock answers before any verification.
  auto locked = f.sessions.login({owner_email, owner_password, {}, {}, "192.0.2.50", ""});
  REQUIRE_FALSE(locked);
  CHECK(code_of(locked.error()) == errc::rate_limited);
  CHECK(f.count_audit("auth.login", "success") == 0);

  f.clock.advance(15min + 1s);
  auto later = f.sessions.login({owner_email, owner_password, {}, {}, "192.0.2.50", ""});
  CHECK(later);
}

TEST_CASE("a session authenticates with its principal until logout, expiry or disable",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto owner = f.bootstrap_owner();
  auto login = f.login_as(owner_email, owner_password);

  auto session = f.sessions.authenticate_session(login.tokens.session_token.expose());
  REQUIRE(session);
  CHECK(session->who.type == principal::kind::operator_session);
  CHECK(session->who.operator_id == owner.id);
  CHECK(session->who.role == "instance_owner");
  CHECK(session->user.email == "owner@example.com");
  CHECK(f.sessions.verify_csrf(*session, login.tokens.csrf_token.expose()));
  CHECK_FALSE(f.sessions.verify_csrf(*session, login.tokens.session_token.expose()));
  CHECK_FALSE(f.sessions.verify_csrf(*session, ""));
  CHECK(code_of(f.sessions.authenticate_session("made-up-token").error()) == errc::unauthenticated);
  CHECK(code_of(f.sessions.authenticate_session("").error()) == errc::unauthenticated);

  SECTION("logout revokes the session") {
    REQUIRE(f.sessions.logout(*session));
    auto after = f.sessions.authenticate_session(login.tokens.session_token.expose());
    REQUIRE_FALSE(after);
    CHECK(code_of(after.error()) == errc::unauthenticated);
    CHECK(f.count_audit("auth.logout", "success") == 1);
  }
  SECTION("the session expires after 14 days") {
    f.clock.advance(14 * 24h - 1s);
    CHECK(f.sessions.authenticate_session(login.tokens.session_token.expose()));
    f.clock.advance(2s);
    CHECK_FALSE(f.sessions.authenticate_session(login.tokens.session_token.expose()));
  }
  SECTION("disabling the operator ends its sessions") {
    auto admin = f.service.create_operator(cli_principal(), "admin@example.com", "Admin",
                                           "instance_admin", "temporary password 1");
    REQUIRE(admin);
    auto admin_login = f.login_as("admin@example.com", "temporary password 1");
    REQUIRE(f.sessions.authenticate_session(admin_login.tokens.session_token.expose()));
    auto disabled =
      f.service.update(session->who, admin->id, operator_fields{{}, {}, "disabled", {}});
    REQUIRE(disabled);
    CHECK(disabled->status == "disabled");
    CHECK_FALSE(f.sessions.authenticate_session(admin_login.tokens.session_token.expose()));
    auto relogin =
      f.sessions.login({"admin@example.com", "temporary password 1", {}, {}, "198.51.100.7", ""});
    REQUIRE_FALSE(relogin);
    CHECK(code_of(relogin.error()) == errc::unauthenticated);
  }
}

TEST_CASE("TOTP makes login require a fresh code, and each recovery code works once",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  f.bootstrap_owner();
  const auto owner = f.principal_of(f.login_as(owner_email, owner_password));

  CHECK(code_of(f.credentials.begin_totp(cli_principal()).error()) == errc::forbidden);
  auto enrollment = f.credentials.begin_totp(owner);
  REQUIRE(enrollment);
  CHECK(enrollment->otpauth_uri.expose().find(enrollment->secret_base32.expose())
        != std::string::npos);
  CHECK(f.service.get(owner, owner.operator_id)->totp_status == "pending");
  const auto raw = persistence::from_base32(enrollment->secret_base32.expose());
  REQUIRE(raw);
  const secret<std::string> totp_secret{*raw};

  auto bad_confirm = f.credentials.confirm_totp(
    owner, "000000" == persistence::totp_code(totp_secret, f.unix_now()) ? "111111" : "000000");
  REQUIRE_FALSE(bad_confirm);
  CHECK(code_of(bad_confirm.error()) == errc::validation_failed);
  auto codes = f.credentials.confirm_totp(owner, persistence::totp_code(totp_secret, f.unix_now()));
  REQUIRE(codes);
  REQUIRE(codes->size() == 10);
  CHECK(f.service.get(owner, owner.operator_id)->totp_status == "active");
  CHECK(code_of(f.credentials.begin_totp(owner).error()) == errc::conflict);

  auto no_code = f.sessions.login({owner_email, owner_password, {}, {}, "198.51.100.7", ""});
  REQUIRE_FALSE(no_code);
  CHECK(code_of(no_code.error()) == errc::unauthenticated);
  CHECK(is_totp_required(no_code.error()));

  auto wrong_password =
    f.sessions.login({owner_email, "wrong password 123", {}, {}, "198.51.100.7", ""});
  REQUIRE_FALSE(wrong_password);
  CHECK_FALSE(is_totp_required(wrong_password.error()));

  const auto current = persistence::totp_code(totp_secret, f.unix_now());
  auto replayed = f.sessions.login({owner_email, owner_password, current, {}, "198.51.100.7", ""});
  REQUIRE_FALSE(replayed); // the step used to confirm enrollment is spent
  CHECK(code_of(replayed.error()) == errc::unauthenticated);

  f.clock.advance(30s);
  const auto fresh = persistence::totp_code(totp_secret, f.unix_now());
  auto wrong_code = f.sessions.login(
    {owner_email, owner_password, fresh == "123456" ? "654321" : "123456", {}, "198.51.100.7", ""});
  REQUIRE_FALSE(wrong_code);
  CHECK(code_of(wrong_code.error()) == errc::unauthenticated);
  CHECK_FALSE(is_totp_required(wrong_code.error()));
  f.login_as(owner_email, owner_password, fresh);
  auto fresh_again = f.sessions.login({owner_email, owner_password, fresh, {}, "198.51.100.7", ""});
  REQUIRE_FALSE(fresh_again);
  CHECK(code_of(fresh_again.error()) == errc::unauthenticated);

  const auto recovery = (*codes)[0].expose();
  f.login_as(owner_email, owner_password, std::nullopt, recovery);
  auto reused = f.sessions.login({owner_email, owner_password, {}, recovery, "198.51.100.7", ""});
  REQUIRE_FALSE(reused);
  CHECK(code_of(reused.error()) == errc::unauthenticated);

  // Codes are typed loosely: lower case without dashes is the same code.
  std::string loose;
  for (char c : (*codes)[1].expose()) {
    if (c != '-') {
      loose += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  f.login_as(owner_email, owner_password, std::nullopt, loose);

  auto bad_disable = f.credentials.disable_totp(owner, "wrong password 123");
  REQUIRE_FALSE(bad_disable);
  CHECK(code_of(bad_disable.error()) == errc::validation_failed);
  REQUIRE(f.credentials.disable_totp(owner, owner_password));
  CHECK(f.service.get(owner, owner.operator_id)->totp_status == "disabled");
  f.login_as(owner_email, owner_password);
  auto revoked_code =
    f.sessions.login({owner_email, owner_password, {}, (*codes)[2].expose(), "198.51.100.7", ""});
  CHECK(revoked_code); // TOTP is off: the recovery code is simply not needed any more
}

TEST_CASE("invites are accepted once and refuse to be reused, revoked or expired",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  f.bootstrap_owner();
  const auto owner = f.principal_of(f.login_as(owner_email, owner_password));
  const auto pool_id = f.add_pool("team-a");

  auto unknown_pool =
    f.invites.create_invite(owner, {"new@example.com", "instance_admin", {new_uuid()}, {}});
  REQUIRE_FALSE(unknown_pool);
  CHECK(field_errors_of(unknown_pool.error()).count("pool_ids") == 1);
  auto bad_role = f.invites.create_invite(owner, {"new@example.com", "superuser", {}, {}});
  REQUIRE_FALSE(bad_role);
  CHECK(field_errors_of(bad_role.error()).count("role") == 1);
  auto taken = f.invites.create_invite(owner, {"OWNER@example.com", "instance_admin", {}, {}});
  REQUIRE_FALSE(taken);
  CHECK(code_of(taken.error()) == errc::conflict);

  auto invite = f.invites.create_invite(owner, {"New@Example.com", "instance_admin", {pool_id}, 2});
  REQUIRE(invite);
  CHECK(invite->invite.status == "active");
  CHECK(invite->invite.email == "new@example.com");
  CHECK(invite->invite.pool_ids == std::vector<std::string>{pool_id});

  auto weak = f.invites.accept_invite(invite->token.expose(), "New Admin", "short");
  REQUIRE_FALSE(weak);
  CHECK(field_errors_of(weak.error()).count("password") == 1);
  auto accepted =
    f.invites.accept_invite(invite->token.expose(), "New Admin", "a long enough password");
  REQUIRE(accepted);
  CHECK(accepted->email == "new@example.com");
  CHECK(accepted->role == "instance_admin");
  CHECK(accepted->pool_ids == std::vector<std::string>{pool_id});
  CHECK_FALSE(accepted->password_change_required);

  auto reused =
    f.invites.accept_invite(invite->token.expose(), "Someone Else", "another long password");
  REQUIRE_FALSE(reused);
  CHECK(code_of(reused.error()) == errc::not_found);
  auto made_up =
    f.invites.accept_invite("not-a-real-token", "Someone Else", "another long password");
  REQUIRE_FALSE(made_up);
  CHECK(code_of(made_up.error()) == errc::not_found);

  const auto admin = f.principal_of(f.login_as("new@example.com", "a long enough password"));
  CHECK(admin.role == "instance_admin");
  CHECK(admin.pool_ids == std::vector<std::string>{pool_id});

  auto revoked = f.invites.create_invite(owner, {"revoked@example.com", "instance_owner", {}, {}});
  REQUIRE(revoked);
  auto revoked_view = f.invites.revoke_invite(owner, revoked->invite.id);
  REQUIRE(revoked_view);
  CHECK(revoked_view->status == "revoked");
  CHECK(code_of(f.invites.revoke_invite(owner, revoked->invite.id).error()) == errc::conflict);
  auto use_revoked =
    f.invites.accept_invite(revoked->token.expose(), "Revoked", "another long password");
  REQUIRE_FALSE(use_revoked);
  CHECK(code_of(use_revoked.error()) == errc::not_found);

  auto expiring = f.invites.create_invite(owner, {"late@example.com", "instance_owner", {}, 1});
  REQUIRE(expiring);
  f.clock.advance(1h + 1s);
  auto too_late =
    f.invites.accept_invite(expiring->token.expose(), "Late", "another long password");
  REQUIRE_FALSE(too_late);
  CHECK(code_of(too_late.error()) == errc::not_found);

  auto listed = f.invites.list_invites(owner);
  REQUIRE(listed);
  REQUIRE(listed->size() == 3);
  std::map<std::string, std::string> status_by_email;
  for (const auto& view : *listed) {
    status_by_email[view.email] = view.status;
  }
  CHECK(status_by_email["new@example.com"] == "accepted");
  CHECK(status_by_email["revoked@example.com"] == "revoked");
  CHECK(status_by_email["late@example.com"] == "expired");
  CHECK(to_json(listed->front()).contains("accepted_at"));

  CHECK(code_of(f.invites.create_invite(admin, {"x@example.com", "instance_admin", {}, {}}).error())
        == errc::forbidden);
  CHECK(code_of(f.invites.list_invites(admin).error()) == errc::forbidden);
  CHECK(f.count_audit("invite.accept", "success") == 1);
}

TEST_CASE("an invite's default lifetime and link come from the operator settings",
          "[integration][operators][settings]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  f.bootstrap_owner();
  const auto owner = f.principal_of(f.login_as(owner_email, owner_password));

  auto by_default = f.invites.create_invite(owner, {"first@example.com", "instance_owner", {}, {}});
  REQUIRE(by_default);
  CHECK(by_default->invite.expires_at == to_iso8601(f.clock.now() + 72h));
  CHECK(by_default->accept_url.expose()
        == "http://localhost:4000/invite#token=" + by_default->token.expose());

  REQUIRE(settings_service{f.context}.update(
    owner,
    {{"operator.invite_ttl_hours", 5}, {"operator.login_base_url", "https://pool.example.com/"}}));
  auto configured =
    f.invites.create_invite(owner, {"second@example.com", "instance_owner", {}, {}});
  REQUIRE(configured);
  CHECK(configured->invite.expires_at == to_iso8601(f.clock.now() + 5h));
  CHECK(configured->accept_url.expose()
        == "https://pool.example.com/invite#token=" + configured->token.expose());
  auto explicit_ttl =
    f.invites.create_invite(owner, {"third@example.com", "instance_owner", {}, 9});
  REQUIRE(explicit_ttl);
  CHECK(explicit_ttl->invite.expires_at == to_iso8601(f.clock.now() + 9h));
}

TEST_CASE("an instance admin cannot manage operators", "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto owner_view = f.bootstrap_owner();
  const principal cli = cli_principal();
  auto created = f.service.create_operator(cli, "admin@example.com", "Admin", "instance_admin",
                                           "temporary password 1");
  REQUIRE(created);
  const auto admin = f.principal_of(f.login_as("admin@example.com", "temporary password 1"));

  auto listed = f.service.list(admin);
  REQUIRE_FALSE(listed);
  CHECK(code_of(listed.error()) == errc::forbidden);
  CHECK(f.service.get(admin, admin.operator_id));
  CHECK(code_of(f.service.get(admin, owner_view.id).error()) == errc::forbidden);
  CHECK(code_of(f.service.update(admin, admin.operator_id, {{}, "instance_owner", {}, {}}).error())
        == errc::forbidden);
  CHECK(code_of(
          f.service
            .create_operator(admin, "x@example.com", "X", "instance_admin", "temporary password 2")
            .error())
        == errc::forbidden);
  auto all = f.service.list(cli);
  REQUIRE(all);
  CHECK(all->size() == 2);
}

TEST_CASE("the last active owner cannot be demoted or disabled", "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  const auto first = f.bootstrap_owner();
  const principal cli = cli_principal();

  auto demote = f.service.update(cli, first.id, {{}, "instance_admin", {}, {}});
  REQUIRE_FALSE(demote);
  CHECK(code_of(demote.error()) == errc::conflict);
  auto disable = f.service.update(cli, first.id, {{}, {}, "disabled", {}});
  REQUIRE_FALSE(disable);
  CHECK(code_of(disable.error()) == errc::conflict);
  CHECK(f.service.get(cli, first.id)->role == "instance_owner");
  CHECK(code_of(f.service.update(cli, first.id, {{}, "root", {}, {}}).error())
        == errc::validation_failed);
  CHECK(code_of(f.service.update(cli, new_uuid(), {"Ghost", {}, {}, {}}).error())
        == errc::not_found);

  auto second = f.service.create_operator(cli, "second@example.com", "Second", "instance_owner",
                                          "temporary password 1");
  REQUIRE(second);
  const auto pool_id = f.add_pool("team-b");
  auto demoted =
    f.service.update(cli, first.id, {"First", "instance_admin", {}, std::vector{pool_id}});
  REQUIRE(demoted);
  CHECK(demoted->role == "instance_admin");
  CHECK(demoted->display_name == "First");
  CHECK(demoted->pool_ids == std::vector<std::string>{pool_id});
  auto last = f.service.update(cli, second->id, {{}, "instance_admin", {}, {}});
  REQUIRE_FALSE(last);
  CHECK(code_of(last.error()) == errc::conflict);
  CHECK(f.count_audit("operator.update", "success") == 1);
}

TEST_CASE("a temporary password must be changed and the new one works",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  f.bootstrap_owner();
  const principal cli = cli_principal();
  auto created = f.service.create_operator(cli, "Temp@Example.com", "Temp", "instance_admin",
                                           "temporary password 1");
  REQUIRE(created);
  CHECK(created->password_change_required);
  CHECK(code_of(f.service
                  .create_operator(cli, "temp@example.com", "Dup", "instance_admin",
                                   "temporary password 1")
                  .error())
        == errc::conflict);
  auto login = f.login_as("temp@example.com", "temporary password 1");
  CHECK(login.user.password_change_required);
  const auto who = f.principal_of(login);

  auto wrong_current =
    f.credentials.change_password(who, "not the password", "a brand new password");
  REQUIRE_FALSE(wrong_current);
  CHECK(field_errors_of(wrong_current.error()).count("current_password") == 1);
  auto too_short = f.credentials.change_password(who, "temporary password 1", "tiny");
  REQUIRE_FALSE(too_short);
  CHECK(field_errors_of(too_short.error()).count("password") == 1);
  REQUIRE(f.credentials.change_password(who, "temporary password 1", "a brand new password"));
  CHECK_FALSE(f.service.get(who, who.operator_id)->password_change_required);
  CHECK_FALSE(
    f.sessions.login({"temp@example.com", "temporary password 1", {}, {}, "198.51.100.7", ""}));
  f.login_as("temp@example.com", "a brand new password");
}

TEST_CASE("the operator tables never hold a password, raw token, TOTP secret or recovery code",
          "[integration][operators]") {
  const auto kind = GENERATE(backend::sqlite, backend::postgres);
  CAPTURE(test::to_string(kind));
  fixture f{kind};
  std::vector<std::string> secrets{owner_password, "temporary password 1",
                                   "a long enough password"};
  f.bootstrap_owner();
  auto first_login = f.login_as(owner_email, owner_password);
  const auto owner = f.principal_of(first_login);
  secrets.push_back(first_login.tokens.session_token.expose());
  secrets.push_back(first_login.tokens.csrf_token.expose());

  auto enrollment = f.credentials.begin_totp(owner);
  REQUIRE(enrollment);
  const auto raw = persistence::from_base32(enrollment->secret_base32.expose());
  REQUIRE(raw);
  secrets.push_back(enrollment->secret_base32.expose());
  secrets.push_back(*raw);
  secrets.push_back(to_hex(*raw));
  secrets.push_back(to_base64(*raw));
  secrets.push_back(to_base64url(*raw));
  auto codes = f.credentials.confirm_totp(
    owner, persistence::totp_code(secret<std::string>{*raw}, f.unix_now()));
  REQUIRE(codes);
  for (const auto& code : *codes) {
    secrets.push_back(code.expose());
    secrets.push_back(persistence::normalize_recovery_code(code.expose()));
  }
  f.clock.advance(30s);
  auto second_login = f.login_as(owner_email, owner_password, std::nullopt, (*codes)[3].expose());
  secrets.push_back(second_login.tokens.session_token.expose());
  secrets.push_back(second_login.tokens.csrf_token.expose());

  REQUIRE(f.service.create_operator(owner, "temp@example.com", "Temp", "instance_admin",
                                    "temporary password 1"));
  auto invite = f.invites.create_invite(owner, {"invitee@example.com", "instance_admin", {}, {}});
  REQUIRE(invite);
  secrets.push_back(invite->token.expose());
  auto pending_invite =
    f.invites.create_invite(owner, {"pending@example.com", "instance_owner", {}, {}});
  REQUIRE(pending_invite);
  secrets.push_back(pending_invite->token.expose());
  REQUIRE(f.invites.accept_invite(invite->token.expose(), "Invitee", "a long enough password"));
  static_cast<void>(
    f.sessions.login({owner_email, "wrong password 123", {}, {}, "198.51.100.7", ""}));

  std::string dump;
  for (const auto* table : {"operators", "operator_sessions", "recovery_codes", "invites",
                            "audit_events", "bootstrap_state", "operator_pool_assignments"}) {
    REQUIRE(f.database.db().run([&](soci::session& sql) {
      soci::rowset<soci::row> rows = sql.prepare << std::string{"SELECT * FROM "} + table;
      for (const auto& row : rows) {
        persistence::row_reader reader{row};
        for (size_t column = 0; column < row.size(); ++column) {
          dump += reader.opt_text(column).value_or("") + "\n";
        }
      }
    }));
  }
  REQUIRE(dump.find("owner@example.com") != std::string::npos); // the dump did read the tables
  REQUIRE(dump.find("$argon2id$") != std::string::npos);
  for (const auto& value : secrets) {
    REQUIRE_FALSE(value.empty());
    CHECK(dump.find(value) == std::string::npos);
  }
}
