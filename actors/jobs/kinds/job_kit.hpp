#pragma once

#include <string>

#include <caf/expected.hpp>

#include "actors/jobs/job_handler.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/settings/settings_sections.hpp"

/// What the job kinds share: the settings in force, the clock and an account's decrypted
/// credentials. Their blocking upstream calls go through `actors::call_and_wait`. Internal to
/// actors/jobs.
namespace cxp::actors::jobs {

/// The settings stored now (each run reads them afresh: a worker holds no settings cache).
caf::expected<domain::settings_sections> current_settings(persistence::database& db);

time_point now_of(const job_services& services);

/// The decrypted credentials of `account_id`; they stay on this thread's stack.
caf::expected<domain::account_service::credentials> credentials_of(const job_services& services,
                                                                   const std::string& account_id);

} // namespace cxp::actors::jobs
