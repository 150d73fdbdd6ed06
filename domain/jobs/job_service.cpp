#include "domain/jobs/job_service.hpp"

#include <array>

#include "domain/pools/pool_service.hpp"
#include "persistence/audit/audit_repository.hpp"
#include "persistence/pools/pool_repository.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> job_states = {"queued", "running", "succeeded", "failed",
                                                        "cancelled"};

json text_or_null(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

std::string known_kinds() {
  std::string names;
  for (const auto kind : all_job_kinds) {
    names += (names.empty() ? "" : ", ") + std::string{to_string(kind)};
  }
  return names;
}

} // namespace

json to_json(const persistence::job_row& job) {
  json outcome = nullptr;
  if (job.outcome) {
    outcome = json::parse(*job.outcome, nullptr, false);
    if (outcome.is_discarded()) {
      outcome = nullptr;
    }
  }
  return json{{"id", job.id},
              {"kind", job.kind},
              {"state", job.status},
              {"pool_id", text_or_null(job.pool_id)},
              {"origin", job.origin},
              {"attempts", job.attempts},
              {"max_attempts", job.max_attempts},
              {"timeout_ms", job.timeout_ms},
              {"run_at", job.run_at},
              {"started_at", text_or_null(job.started_at)},
              {"finished_at", text_or_null(job.finished_at)},
              {"locked_by", text_or_null(job.locked_by)},
              {"locked_until", text_or_null(job.locked_until)},
              {"last_error", text_or_null(job.last_error)},
              {"outcome", outcome},
              {"created_at", job.created_at},
              {"updated_at", job.updated_at}};
}

caf::expected<job_page> job_service::list(const principal& who, const job_query& query) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  if (auto page = validate_page(query.page); !page) {
    return page.error();
  }
  std::map<std::string, std::string> errors;
  if (query.kind && !parse_job_kind(*query.kind)) {
    errors["kind"] = "must be one of " + known_kinds();
  }
  if (query.state && !is_one_of(job_states, *query.state)) {
    errors["state"] = "must be one of queued, running, succeeded, failed, cancelled";
  }
  if (!errors.empty()) {
    return make_validation_error(std::move(errors));
  }
  persistence::job_filter filter;
  filter.kind = query.kind;
  filter.status = query.state;
  if (!who.is_owner()) {
    filter.visible_pool_ids = who.pool_ids;
  }
  if (query.page.cursor) {
    const auto position = decode_page_cursor(*query.page.cursor);
    filter.before_cursor = position->first + "|" + position->second;
  }
  filter.limit = query.page.limit + 1;
  auto rows = persistence::job_repository{context_.db}.list(filter);
  if (!rows) {
    return rows.error();
  }
  return make_page<job_page>(*rows, query.page.limit, [](const auto& row) { return row; });
}

caf::expected<job_run_result> job_service::run(const principal& who,
                                               const job_run_request& request) {
  if (auto allowed = require_operator(who); !allowed) {
    return allowed.error();
  }
  if (!who.is_owner()) {
    return make_error(errc::forbidden, "only instance owners run jobs");
  }
  const auto kind = parse_job_kind(request.kind);
  if (!kind) {
    return make_validation_error({{"kind", "must be one of " + known_kinds()}});
  }
  if (request.pool_id) {
    if (!policy_of(*kind).per_pool) {
      return make_validation_error({{"pool_id", "is not taken by " + request.kind}});
    }
    if (auto pool = persistence::pool_repository{context_.db}.get(*request.pool_id); !pool) {
      return pool.error();
    }
  }
  const auto now = context_.clock.now();
  const auto by = who.operator_id.empty() ? who.actor_type() : who.operator_id;
  const auto job = manual_job(*kind, request.pool_id, now, by, tuning_);
  auto event = audit_event(context_, who, "job.run");
  event.target_type = "job";
  event.pool_id = request.pool_id;
  auto done =
    context_.db.transact([&](persistence::unit_of_work& work) -> caf::expected<job_run_result> {
      auto enqueued = persistence::job_repository::enqueue_in(work, job, now);
      if (!enqueued) {
        return make_error(errc::conflict, "the incomplete run of this job just finished");
      }
      event.target_id = enqueued->job.id;
      event.details = json{{"kind", request.kind}, {"queued", enqueued->created}}.dump();
      persistence::audit_repository::record_in(work, event);
      work.commit();
      return job_run_result{std::move(enqueued->job), enqueued->created};
    });
  return done;
}

} // namespace cxp::domain
