#include "actors/jobs/kinds/job_kit.hpp"

#include <future>

#include "actors/account/account_actor.hpp"
#include "domain/settings/settings_service.hpp"

namespace cxp::actors::jobs {

call_result call_and_wait(upstream_client& client, upstream_request request) {
  std::promise<call_result> answered;
  auto answer = answered.get_future();
  client.fetch(std::move(request),
               [&answered](std::optional<upstream_failure> failure, upstream_reply reply) {
                 answered.set_value({failure, std::move(reply)});
               });
  return answer.get();
}

caf::expected<domain::settings_sections> current_settings(persistence::database& db) {
  auto stored = domain::load_instance_settings(db);
  if (!stored) {
    return std::move(stored.error());
  }
  return stored->sections();
}

time_point now_of(const job_services& services) {
  return services.runtime.services.clock.now();
}

caf::expected<domain::account_service::credentials> credentials_of(const job_services& services,
                                                                   const std::string& account_id) {
  return domain::account_service{services.runtime.services}.decrypt_credentials(account_id);
}

} // namespace cxp::actors::jobs
