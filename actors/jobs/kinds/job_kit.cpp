#include "actors/jobs/kinds/job_kit.hpp"

#include "actors/account/account_actor.hpp"
#include "domain/settings/settings_service.hpp"

namespace cxp::actors::jobs {

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
