#include "domain/jobs/job_schedule.hpp"

#include <catch2/catch.hpp>

using namespace cxp;
using namespace cxp::domain;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const auto noon = parse_iso8601("2026-12-04T12:00:00.000000Z").value();

} // namespace

TEST_CASE("schedule slots are cut from the Unix epoch, so every node agrees on them",
          "[unit][domain][jobs]") {
  CHECK(slot_start(noon, minutes{30}) == noon);
  CHECK(slot_start(noon + minutes{29} + seconds{59}, minutes{30}) == noon);
  CHECK(slot_start(noon + minutes{30}, minutes{30}) == noon + minutes{30});
  CHECK(slot_start(noon + milliseconds{1'234}, milliseconds{500}) == noon + milliseconds{1'000});
}

TEST_CASE("a scheduled run is keyed by its kind and slot and takes the kind's policy",
          "[unit][domain][jobs]") {
  const auto job = scheduled_job(job_kind::catalog_sync, noon + minutes{7}, "node-a", {});
  CHECK(job.kind == "catalog_sync");
  CHECK(job.unique_key == "catalog_sync@2026-12-04T12:00:00.000000Z");
  CHECK(job.origin == "schedule");
  CHECK(job.enqueued_by == "node-a");
  CHECK(job.run_at == noon + minutes{7});
  CHECK(job.max_attempts == policy_of(job_kind::catalog_sync).max_attempts);
  CHECK(job.timeout == policy_of(job_kind::catalog_sync).timeout);
  CHECK_FALSE(job.pool_id);
  // Another run in the same slot has the same key; the next slot's differs.
  CHECK(scheduled_job(job_kind::catalog_sync, noon + minutes{29}, "node-b", {}).unique_key
        == job.unique_key);
  CHECK(scheduled_job(job_kind::catalog_sync, noon + minutes{30}, "node-a", {}).unique_key
        != job.unique_key);
}

TEST_CASE("boot-time tuning overrides every kind's interval and timeout", "[unit][domain][jobs]") {
  const job_tuning tuning{milliseconds{2'000}, milliseconds{3'000}};
  CHECK(every_of(job_kind::pricing_import, tuning) == milliseconds{2'000});
  CHECK(timeout_of(job_kind::pricing_import, tuning) == milliseconds{3'000});
  CHECK(every_of(job_kind::pricing_import, {}) == std::chrono::hours{1});
  const auto job = scheduled_job(job_kind::retention, noon + milliseconds{4'500}, "n", tuning);
  CHECK(job.unique_key == "retention@2026-12-04T12:00:04.000000Z");
  CHECK(job.timeout == milliseconds{3'000});
}

TEST_CASE("a manual run is one per kind and pool while incomplete", "[unit][domain][jobs]") {
  const auto all = manual_job(job_kind::catalog_sync, std::nullopt, noon, "op-1", {});
  const auto one = manual_job(job_kind::catalog_sync, std::string{"pool-1"}, noon, "op-1", {});
  CHECK(all.unique_key == "manual:catalog_sync");
  CHECK(one.unique_key == "manual:catalog_sync:pool-1");
  CHECK(one.pool_id == "pool-1");
  CHECK(one.origin == "manual");
  CHECK(one.enqueued_by == "op-1");
}

TEST_CASE("a failed attempt is retried after the kind's backoff until its last",
          "[unit][domain][jobs]") {
  const auto backoff = policy_of(job_kind::token_refresh).backoff;
  CHECK(retry_at(job_kind::token_refresh, 1, 3, noon) == noon + backoff);
  CHECK(retry_at(job_kind::token_refresh, 2, 3, noon) == noon + 2 * backoff);
  CHECK_FALSE(retry_at(job_kind::token_refresh, 3, 3, noon));
  CHECK_FALSE(retry_at(job_kind::token_refresh, 1, 1, noon));
}
