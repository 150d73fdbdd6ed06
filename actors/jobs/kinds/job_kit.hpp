#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "actors/jobs/job_handler.hpp"
#include "actors/upstream/upstream_client.hpp"
#include "domain/accounts/account_service.hpp"
#include "domain/settings/settings_sections.hpp"

/// What the job kinds share: blocking upstream calls, the settings in force, the clock and an
/// account's decrypted credentials. Internal to actors/jobs.
namespace cxp::actors::jobs {

/// An upstream answer, or why there was none.
struct call_result {
  std::optional<upstream_failure> failure;
  upstream_reply reply;

  bool ok() const { return !failure && reply.head.status == 200; }
};

/// Runs `request` and waits for its whole answer on the calling (worker) thread.
call_result call_and_wait(upstream_client& client, upstream_request request);

/// The settings stored now (each run reads them afresh: a worker holds no settings cache).
caf::expected<domain::settings_sections> current_settings(persistence::database& db);

time_point now_of(const job_services& services);

/// The decrypted credentials of `account_id`; they stay on this thread's stack.
caf::expected<domain::account_service::credentials> credentials_of(const job_services& services,
                                                                   const std::string& account_id);

} // namespace cxp::actors::jobs
