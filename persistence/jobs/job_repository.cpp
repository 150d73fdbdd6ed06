#include "persistence/jobs/job_repository.hpp"

#include <map>

#include <soci/soci.h>

#include "common/encoding.hpp"
#include "persistence/db/column_table.hpp"
#include "persistence/db/filtered_query.hpp"
#include "persistence/db/row_reader.hpp"
#include "persistence/db/select_rows.hpp"

namespace cxp::persistence {

namespace {

constexpr auto job_table = make_column_table(
  col<&job_row::id>("id"), col<&job_row::kind>("kind"), col<&job_row::status>("status"),
  col<&job_row::pool_id>("pool_id"), col<&job_row::unique_key>("unique_key"),
  col<&job_row::origin>("origin"), col<&job_row::enqueued_by>("enqueued_by"),
  col<&job_row::run_at>("run_at"), col<&job_row::attempts>("attempts"),
  col<&job_row::max_attempts>("max_attempts"), col<&job_row::timeout_ms>("timeout_ms"),
  col<&job_row::locked_by>("locked_by"), col<&job_row::locked_until>("locked_until"),
  col<&job_row::started_at>("started_at"), col<&job_row::finished_at>("finished_at"),
  col<&job_row::last_error>("last_error"), col<&job_row::outcome>("outcome"),
  col<&job_row::created_at>("created_at"), col<&job_row::updated_at>("updated_at"));

/// What a claim that outlived its timeout records: its worker died or hung.
constexpr const char* claim_timed_out = "the claim timed out: its worker stopped or hung";

std::vector<job_row> select_jobs(soci::session& sql, const std::string& where,
                                 const std::vector<std::string>& values) {
  return select_rows(sql, "SELECT " + job_table.select_list() + " FROM jobs WHERE " + where, values,
                     [](const soci::row& row) { return job_table.read(row); });
}

std::optional<job_row> incomplete_with_key(soci::session& sql, const std::string& key) {
  auto rows = select_jobs(sql, "unique_key = :p0 AND status IN ('queued', 'running')", {key});
  if (rows.empty()) {
    return std::nullopt;
  }
  return rows.front();
}

/// Inserts `job` as queued; with `guard` (a condition with its own values appended after the
/// row's) only when the guard holds. Answers whether a row was inserted; a unique key already
/// held by an incomplete job inserts nothing.
bool insert_job(soci::session& sql, const new_job& job, const std::string& id, time_point now,
                const std::string& guard = "WHERE 1 = 1",
                const std::vector<std::string>& guard_values = {}) {
  const auto at = to_iso8601(now);
  const auto run_at = to_iso8601(job.run_at);
  nullable_use<std::string> pool{job.pool_id};
  nullable_use<std::string> by{job.enqueued_by};
  const long long timeout_ms = job.timeout.count();
  const int max_attempts = job.max_attempts;
  soci::statement insert{sql};
  insert.exchange(soci::use(id));
  insert.exchange(soci::use(job.kind));
  insert.exchange(soci::use(pool.value, pool.indicator));
  insert.exchange(soci::use(job.unique_key));
  insert.exchange(soci::use(job.origin));
  insert.exchange(soci::use(by.value, by.indicator));
  insert.exchange(soci::use(run_at));
  insert.exchange(soci::use(max_attempts));
  insert.exchange(soci::use(timeout_ms));
  insert.exchange(soci::use(at));
  insert.exchange(soci::use(at));
  for (const auto& value : guard_values) {
    insert.exchange(soci::use(value));
  }
  insert.alloc();
  // A SELECT rather than VALUES so a guard can decide; the targetless DO NOTHING turns a race on
  // the partial unique index into "not inserted".
  insert.prepare("INSERT INTO jobs (id, kind, status, pool_id, unique_key, origin, enqueued_by, "
                 "run_at, attempts, max_attempts, timeout_ms, payload, created_at, updated_at) "
                 "SELECT :id, :kind, 'queued', :pool, :key, :origin, :by, :run_at, 0, "
                 "CAST(:max AS INTEGER), CAST(:timeout AS BIGINT), '{}', :created, :updated "
                 + guard + " ON CONFLICT DO NOTHING");
  insert.define_and_bind();
  insert.execute(true);
  return insert.get_affected_rows() == 1;
}

void record_kind_run(soci::session& sql, const std::string& kind, const std::string& column,
                     const std::string& at) {
  // `column` is one of two literals below, never input.
  sql << "INSERT INTO job_kind_runs (kind, " + column
           + ", updated_at) VALUES (:kind, :at, :now) "
             "ON CONFLICT (kind) DO UPDATE SET "
           + column + " = excluded." + column + ", updated_at = excluded.updated_at",
    soci::use(kind), soci::use(at), soci::use(at);
}

long long execute_counted(soci::statement& statement) {
  statement.execute(true);
  return statement.get_affected_rows();
}

} // namespace

std::optional<enqueue_result> job_repository::enqueue_in(unit_of_work& work, const new_job& job,
                                                         time_point now) {
  auto& sql = work.session();
  const auto id = new_uuid();
  if (insert_job(sql, job, id, now)) {
    return enqueue_result{select_jobs(sql, "id = :p0", {id}).at(0), true};
  }
  auto existing = incomplete_with_key(sql, job.unique_key);
  if (!existing) {
    return std::nullopt;
  }
  return enqueue_result{*existing, false};
}

caf::expected<enqueue_result> job_repository::enqueue(const new_job& job, time_point now) {
  constexpr int attempts = 3;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto result =
      db_.transact([&](unit_of_work& work) -> caf::expected<std::optional<enqueue_result>> {
        auto enqueued = enqueue_in(work, job, now);
        if (enqueued) {
          work.commit();
        }
        return enqueued;
      });
    if (!result) {
      return result.error();
    }
    if (*result) {
      return std::move(**result);
    }
  }
  return make_error(errc::conflict, "job " + job.unique_key + " kept changing state");
}

caf::expected<scheduled_enqueue>
job_repository::enqueue_scheduled(const new_job& job, const lease_fence& fence, time_point now) {
  const auto at = to_iso8601(now);
  const auto epoch = std::to_string(fence.epoch);
  return db_.run([&](soci::session& sql) {
    // One statement: the fence, the slot and the backlog are checked where the row is written.
    const std::string guard =
      "WHERE EXISTS (SELECT 1 FROM scheduler_leases WHERE name = 'scheduler' AND "
      "holder_node_id = :g0 AND epoch = "
      + epoch
      + " AND expires_at > :g1) "
        "AND NOT EXISTS (SELECT 1 FROM jobs WHERE unique_key = :g2) "
        "AND NOT EXISTS (SELECT 1 FROM jobs WHERE kind = :g3 AND status = 'queued' AND "
        "origin = 'schedule')";
    if (insert_job(sql, job, new_uuid(), now, guard,
                   {fence.node_id, at, job.unique_key, job.kind})) {
      return scheduled_enqueue::created;
    }
    long long held = 0;
    sql << "SELECT COUNT(*) FROM scheduler_leases WHERE name = 'scheduler' AND holder_node_id = "
           ":node AND epoch = "
             + epoch + " AND expires_at > :at",
      soci::into(held), soci::use(fence.node_id), soci::use(at);
    return held > 0 ? scheduled_enqueue::duplicate : scheduled_enqueue::not_leader;
  });
}

caf::expected<std::vector<claimed_job>> job_repository::claim(const std::string& worker_id,
                                                              int limit, time_point now) {
  const auto at = to_iso8601(now);
  const auto token = new_uuid();
  const bool postgres = db_.kind() == database_kind::postgres;
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    // SKIP LOCKED: rows another worker is claiming right now are passed over, not waited for.
    // The due rows are picked once, in a materialised CTE: as a subquery of the UPDATE,
    // PostgreSQL may run them again for each row it updates, and each run skips the rows this
    // statement has just updated, so LIMIT would no longer bound the claim.
    const std::string sql_text =
      std::string{"WITH due AS "} + (postgres ? "MATERIALIZED " : "")
      + "(SELECT id FROM jobs WHERE status = 'queued' AND run_at <= :due ORDER BY run_at, id "
        "LIMIT "
      + std::to_string(limit) + (postgres ? " FOR UPDATE SKIP LOCKED" : "")
      + ") UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = :worker, "
        "claim_token = :token, started_at = :at, locked_until = :until, updated_at = :updated "
        "WHERE status = 'queued' AND id IN (SELECT id FROM due)";
    soci::statement update = (sql.prepare << sql_text, soci::use(at), soci::use(worker_id),
                              soci::use(token), soci::use(at), soci::use(at), soci::use(at));
    std::vector<claimed_job> claimed;
    if (execute_counted(update) == 0) {
      return claimed;
    }
    for (auto& job : select_jobs(sql, "status = 'running' AND claim_token = :p0", {token})) {
      // Each kind has its own timeout, so each row gets its own deadline.
      job.locked_until = to_iso8601(now + std::chrono::milliseconds{job.timeout_ms});
      sql << "UPDATE jobs SET locked_until = :until WHERE id = :id AND claim_token = :token",
        soci::use(*job.locked_until), soci::use(job.id), soci::use(token);
      claimed.push_back({std::move(job), token});
    }
    work.commit();
    return claimed;
  });
}

caf::expected<bool> job_repository::complete(const claimed_job& claim,
                                             const std::string& outcome_json, time_point now) {
  const auto at = to_iso8601(now);
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    record_kind_run(sql, claim.job.kind, "last_success_at", at);
    soci::statement update =
      (sql.prepare << "UPDATE jobs SET status = 'succeeded', outcome = :outcome, finished_at = "
                      ":at, locked_until = NULL, claim_token = NULL, updated_at = :updated "
                      "WHERE id = :id AND claim_token = :token AND status = 'running'",
       soci::use(outcome_json), soci::use(at), soci::use(at), soci::use(claim.job.id),
       soci::use(claim.claim_token));
    if (execute_counted(update) != 1) {
      return false; // rolled back with the kind's run: the run that counts is the new claim's
    }
    work.commit();
    return true;
  });
}

caf::expected<failure_recorded> job_repository::fail(const claimed_job& claim,
                                                     const std::string& error, time_point now,
                                                     std::optional<time_point> retry_at) {
  const auto at = to_iso8601(now);
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    record_kind_run(sql, claim.job.kind, "last_failure_at", at);
    // Both forms bind (text, error, at, id, token) in that order.
    const auto first = retry_at ? to_iso8601(*retry_at) : at;
    const std::string sql_text =
      retry_at ? "UPDATE jobs SET status = 'queued', run_at = :run_at, last_error = :error, "
                 "locked_until = NULL, claim_token = NULL, updated_at = :at "
                 "WHERE id = :id AND claim_token = :token AND status = 'running'"
               : "UPDATE jobs SET status = 'failed', finished_at = :at, last_error = :error, "
                 "locked_until = NULL, claim_token = NULL, updated_at = :updated "
                 "WHERE id = :id AND claim_token = :token AND status = 'running'";
    soci::statement update = (sql.prepare << sql_text, soci::use(first), soci::use(error),
                              soci::use(at), soci::use(claim.job.id), soci::use(claim.claim_token));
    if (execute_counted(update) != 1) {
      return failure_recorded::lost;
    }
    work.commit();
    return retry_at ? failure_recorded::retried : failure_recorded::failed;
  });
}

caf::expected<rescue_result> job_repository::rescue_expired(time_point now) {
  const auto at = to_iso8601(now);
  const std::string error = claim_timed_out;
  return db_.transact([&](unit_of_work& work) {
    auto& sql = work.session();
    rescue_result result;
    // Failing the ones out of attempts first: a job that kills its worker every time must not
    // take the next worker down forever.
    soci::statement fail_for_good =
      (sql.prepare << "UPDATE jobs SET status = 'failed', finished_at = :at, last_error = :error, "
                      "locked_until = NULL, claim_token = NULL, updated_at = :updated WHERE "
                      "status = 'running' AND locked_until < :now AND attempts >= max_attempts",
       soci::use(at), soci::use(error), soci::use(at), soci::use(at));
    result.failed = execute_counted(fail_for_good);
    soci::statement requeue =
      (sql.prepare << "UPDATE jobs SET status = 'queued', run_at = :at, last_error = :error, "
                      "locked_until = NULL, claim_token = NULL, updated_at = :updated WHERE "
                      "status = 'running' AND locked_until < :now",
       soci::use(at), soci::use(error), soci::use(at), soci::use(at));
    result.requeued = execute_counted(requeue);
    work.commit();
    return result;
  });
}

caf::expected<int64_t> job_repository::prune_finished(time_point before, int batch) {
  const auto cutoff = to_iso8601(before);
  return db_.run([&](soci::session& sql) {
    int64_t deleted = 0;
    for (;;) {
      soci::statement remove =
        (sql.prepare << "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN "
                        "('succeeded', 'failed', 'cancelled') AND finished_at < :cutoff LIMIT "
                          + std::to_string(batch) + ")",
         soci::use(cutoff));
      const auto removed = execute_counted(remove);
      deleted += removed;
      if (removed < batch) {
        return deleted;
      }
    }
  });
}

caf::expected<std::optional<job_row>> job_repository::get(const std::string& id) {
  return db_.run([&](soci::session& sql) -> std::optional<job_row> {
    auto rows = select_jobs(sql, "id = :p0", {id});
    if (rows.empty()) {
      return std::nullopt;
    }
    return rows.front();
  });
}

caf::expected<std::vector<job_row>> job_repository::list(const job_filter& filter) {
  return db_.run([&](soci::session& sql) {
    filtered_query query{"SELECT " + job_table.select_list() + " FROM jobs"};
    if (filter.kind) {
      query.where_equal("kind", *filter.kind);
    }
    if (filter.status) {
      query.where_equal("status", *filter.status);
    }
    if (filter.pool_id) {
      query.where_equal("pool_id", *filter.pool_id);
    }
    if (filter.visible_pool_ids && !query.where_in("pool_id", *filter.visible_pool_ids)) {
      return std::vector<job_row>{};
    }
    if (filter.before_cursor) {
      const auto bar = filter.before_cursor->find('|');
      const auto id =
        bar == std::string::npos ? std::string{} : filter.before_cursor->substr(bar + 1);
      query.where_before("created_at", "id", filter.before_cursor->substr(0, bar), id);
    }
    query.append(" ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(filter.limit));
    return select_rows(sql, query.sql(), query.values(),
                       [](const soci::row& row) { return job_table.read(row); });
  });
}

caf::expected<std::vector<queue_depth_row>> job_repository::queue_depth() {
  return db_.run([](soci::session& sql) {
    std::map<std::string, queue_depth_row> by_kind;
    soci::rowset<soci::row> rows =
      sql.prepare << "SELECT kind, status, COUNT(*) FROM jobs WHERE status IN ('queued', "
                     "'running') GROUP BY kind, status";
    for (const auto& row : rows) {
      row_reader r{row};
      auto& depth = by_kind[r.text(0)];
      depth.kind = r.text(0);
      (r.text(1) == "queued" ? depth.queued : depth.running) = r.int64(2);
    }
    std::vector<queue_depth_row> out;
    for (auto& [kind, depth] : by_kind) {
      out.push_back(std::move(depth));
    }
    return out;
  });
}

caf::expected<std::vector<job_kind_runs_row>> job_repository::kind_runs() {
  return db_.run([](soci::session& sql) {
    std::vector<job_kind_runs_row> out;
    soci::rowset<soci::row> rows =
      sql.prepare
      << "SELECT kind, last_success_at, last_failure_at FROM job_kind_runs ORDER BY kind";
    for (const auto& row : rows) {
      row_reader r{row};
      out.push_back({r.text(0), r.opt_text(1), r.opt_text(2)});
    }
    return out;
  });
}

} // namespace cxp::persistence
