#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/jobs/job_kind.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace cxp::persistence {
class database;
} // namespace cxp::persistence

namespace cxp::actors {

class upstream_client;
struct runtime_deps;

/// One claimed run of a job, as its handler sees it.
struct job_run {
  std::string id;
  domain::job_kind kind;
  std::optional<std::string> pool_id; ///< a run aimed at one pool (per-pool kinds only)
  int32_t attempt = 1;                ///< 1 for the first try
};

/// What a run did, recorded as the job's outcome: counts and names, never a secret. An error
/// fails the attempt (retried with backoff while attempts remain).
using job_outcome = caf::expected<nlohmann::json>;

/// Runs one job to its end on a worker's own thread; it may block on the database and on
/// upstream calls.
using job_handler = std::function<job_outcome(const job_run&)>;
using job_handlers = std::map<domain::job_kind, job_handler>;

/// What the handlers work with.
struct job_services {
  caf::actor_system& system;
  persistence::database& db;
  const runtime_deps& runtime; ///< upstream client, base URLs, secrets, clock, metrics, node id
};

/// The handler of every job kind.
job_handlers make_job_handlers(const job_services& services);

} // namespace cxp::actors
