#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cxp::domain {

/// The background jobs the scheduler enqueues and the workers run.
enum class job_kind : uint8_t {
  token_refresh,        ///< refresh tokens ahead of expiry, through each account's owner
  quota_reconciliation, ///< poll the usage endpoint of accounts whose evidence is old
  catalog_sync,         ///< per pool: the models its accounts serve; stale, then retired
  pricing_import,       ///< the pricing feed at `catalog.openai_pricing_url`
  usage_rollup,         ///< hourly usage by pool × key × account × model
  retention,            ///< delete history older than the `retention.*` settings
  runtime_cleanup,      ///< expired session leases, operator sessions, invites, throttles
};

inline constexpr std::array all_job_kinds{
  job_kind::token_refresh,   job_kind::quota_reconciliation, job_kind::catalog_sync,
  job_kind::pricing_import,  job_kind::usage_rollup,         job_kind::retention,
  job_kind::runtime_cleanup,
};

/// How a kind is scheduled and run.
struct job_kind_policy {
  std::chrono::seconds every;   ///< the scheduler enqueues one run per interval
  std::chrono::seconds timeout; ///< a claim older than this is presumed dead and retried
  int32_t max_attempts;         ///< after this many failures the job is failed for good
  std::chrono::seconds backoff; ///< the first retry's delay; doubled for each further one
  bool per_pool;                ///< runs may target one pool (`pool_id`)
};

std::string_view to_string(job_kind kind);
std::optional<job_kind> parse_job_kind(std::string_view name);
const job_kind_policy& policy_of(job_kind kind);

/// The delay before retry number `attempt` (1-based) of `kind`: the backoff doubled per
/// failed attempt, capped at an hour.
std::chrono::seconds retry_delay(job_kind kind, int32_t attempt);

} // namespace cxp::domain
