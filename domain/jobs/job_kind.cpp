#include "domain/jobs/job_kind.hpp"

#include <algorithm>

namespace cxp::domain {

namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

struct kind_entry {
  job_kind kind;
  std::string_view name;
  job_kind_policy policy;
};

// Token refresh and quota reconciliation run often but each run only touches the accounts
// that need it; catalog sync matches the original's half-hourly cadence.
constexpr std::array<kind_entry, all_job_kinds.size()> kinds{{
  {job_kind::token_refresh, "token_refresh", {minutes{5}, minutes{5}, 5, seconds{30}, false}},
  {job_kind::quota_reconciliation,
   "quota_reconciliation",
   {minutes{1}, minutes{5}, 3, seconds{15}, false}},
  {job_kind::catalog_sync, "catalog_sync", {minutes{30}, minutes{10}, 5, seconds{60}, true}},
  {job_kind::pricing_import, "pricing_import", {hours{1}, minutes{5}, 3, minutes{5}, false}},
  {job_kind::usage_rollup, "usage_rollup", {hours{1}, minutes{15}, 5, minutes{1}, false}},
  {job_kind::retention, "retention", {hours{1}, minutes{30}, 3, minutes{5}, false}},
  {job_kind::runtime_cleanup, "runtime_cleanup", {minutes{15}, minutes{10}, 3, minutes{1}, false}},
}};

const kind_entry& entry_of(job_kind kind) {
  return kinds[static_cast<size_t>(kind)];
}

} // namespace

std::string_view to_string(job_kind kind) {
  return entry_of(kind).name;
}

std::optional<job_kind> parse_job_kind(std::string_view name) {
  const auto* found = std::find_if(kinds.begin(), kinds.end(),
                                   [name](const kind_entry& entry) { return entry.name == name; });
  if (found == kinds.end()) {
    return std::nullopt;
  }
  return found->kind;
}

const job_kind_policy& policy_of(job_kind kind) {
  return entry_of(kind).policy;
}

std::chrono::seconds retry_delay(job_kind kind, int32_t attempt) {
  constexpr seconds cap = hours{1};
  auto delay = policy_of(kind).backoff;
  for (int32_t n = 1; n < attempt && delay < cap; ++n) {
    delay *= 2;
  }
  return std::min(delay, cap);
}

} // namespace cxp::domain
