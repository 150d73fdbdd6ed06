// The credentials half of account_service: the token custody the request path and the refresher
// use, and the key rotation that re-seals every row. Apart from the admin CRUD in
// account_service.cpp because it runs on the hot path and shares nothing with it but sealing.
#include "domain/accounts/account_service.hpp"
#include "domain/accounts/account_tokens.hpp"
#include "persistence/accounts/account_custody_repository.hpp"
#include "persistence/accounts/account_repository.hpp"
#include "persistence/crypto/secret_box.hpp"

namespace cxp::domain {

using namespace detail;

namespace {

using persistence::account_repository;
using persistence::account_row;

constexpr int rotation_batch = 100;
constexpr int rotation_attempts = 3;

} // namespace

caf::expected<size_t> account_service::rotate_keys(const principal& who) {
  if (!who.is_owner()) {
    return owner_only("rotating the upstream secret key");
  }
  const auto& current = context_.upstream_keys.current_version();
  auto is_current = [&](const account_row& row) {
    auto access = persistence::from_storage(row.access_token_ciphertext);
    auto refresh = persistence::from_storage(row.refresh_token_ciphertext);
    return row.secret_key_version == current && access && refresh && access->key_version == current
           && refresh->key_version == current;
  };
  std::string failed_row;
  auto rotated = context_.db.transact([&](persistence::unit_of_work& sql) -> caf::expected<size_t> {
    const auto now = to_iso8601(context_.clock.now());
    size_t count = 0;
    std::string after;
    for (auto batch = account_repository::rows_after_in(sql, after, rotation_batch); !batch.empty();
         batch = account_repository::rows_after_in(sql, after, rotation_batch)) {
      after = batch.back().id;
      for (auto& row : batch) {
        for (int tries = 0; !is_current(row); ++tries) {
          if (tries == rotation_attempts) {
            return make_error(errc::conflict,
                              "upstream account " + row.id + " kept changing during rotation");
          }
          auto access = open_token(context_, row.access_token_ciphertext, row.id, access_kind);
          auto refresh = open_token(context_, row.refresh_token_ciphertext, row.id, refresh_kind);
          if (!access || !refresh) {
            failed_row = row.id;
            return access ? refresh.error() : access.error();
          }
          auto new_access = seal_token(context_, *access, row.id, access_kind);
          auto new_refresh = seal_token(context_, *refresh, row.id, refresh_kind);
          if (!new_access || !new_refresh) {
            return new_access ? new_refresh.error() : new_access.error();
          }
          if (account_repository::replace_secrets_in(sql, row, current, *new_access, *new_refresh,
                                                     now)) {
            ++count;
            break;
          }
          auto reread = account_repository::find_in(sql, row.id);
          if (!reread) {
            break;
          }
          row = std::move(*reread);
        }
      }
    }
    record_event(sql, context_, who, "upstream_account.rotate_keys", std::nullopt, std::nullopt,
                 {{"reencrypted", count}, {"key_version", current}});
    sql.commit();
    return count;
  });
  if (!rotated) {
    const auto error = std::string{to_string(to_errc(rotated.error()))};
    // Best effort: the rotation error is what the caller must see, not a failed audit write.
    static_cast<void>(context_.db.transact([&](persistence::unit_of_work& sql) {
      record_event(sql, context_, who, "upstream_account.rotate_keys",
                   failed_row.empty() ? std::nullopt : std::optional<std::string>{failed_row},
                   std::nullopt, {{"error", error}, {"key_version", current}}, "failure");
      sql.commit();
    }));
  }
  return rotated;
}

caf::expected<account_service::credentials>
account_service::decrypt_credentials(const std::string& id) {
  if (!is_uuid(id)) {
    return make_error(errc::not_found, "upstream account not found");
  }
  auto row = account_repository{context_.db}.find(id);
  if (!row) {
    return row.error();
  }
  if (!*row) {
    return make_error(errc::not_found, "upstream account not found");
  }
  auto access = open_token(context_, (*row)->access_token_ciphertext, id, access_kind);
  if (!access) {
    return access.error();
  }
  auto refresh = open_token(context_, (*row)->refresh_token_ciphertext, id, refresh_kind);
  if (!refresh) {
    return refresh.error();
  }
  return credentials{std::move(*access), std::move(*refresh), (*row)->chatgpt_account_id,
                     (*row)->token_generation};
}

caf::expected<bool> account_service::store_refreshed_tokens(
  const std::string& id, int64_t generation, const secret<std::string>& access_token,
  const secret<std::string>& refresh_token, std::optional<time_point> access_token_expires_at) {
  auto access = seal_token(context_, access_token, id, access_kind);
  if (!access) {
    return access.error();
  }
  auto refresh = seal_token(context_, refresh_token, id, refresh_kind);
  if (!refresh) {
    return refresh.error();
  }
  return persistence::account_custody_repository{context_.db}.store_refreshed(
    {id, context_.upstream_keys.current_version(), std::move(*access), std::move(*refresh),
     iso_or_null(access_token_expires_at), to_iso8601(context_.clock.now())},
    generation);
}

} // namespace cxp::domain
