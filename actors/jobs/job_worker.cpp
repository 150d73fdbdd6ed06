#include "actors/jobs/job_worker.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/encoding.hpp"
#include "common/log.hpp"
#include "domain/jobs/job_schedule.hpp"
#include "persistence/jobs/job_repository.hpp"

namespace cxp::actors {

namespace {

/// A recorded error stays short: it is for an operator's eye, not a log.
constexpr size_t max_error_length = 500;

std::string describe(const caf::error& error) {
  std::string text{to_string(to_errc(error))};
  if (const auto context = context_of(error); !context.empty()) {
    text += ": " + context;
  }
  text = escape_controls(text);
  if (text.size() > max_error_length) {
    text.resize(max_error_length);
  }
  return text;
}

} // namespace

job_runner::job_runner(persistence::database& db, std::shared_ptr<const job_handlers> handlers,
                       const cxp::clock& clock, job_metrics& metrics, std::string worker_id)
    : db_(db),
      handlers_(std::move(handlers)),
      clock_(clock),
      metrics_(metrics),
      worker_id_(std::move(worker_id)) {}

bool job_runner::run_next() {
  auto claimed = persistence::job_repository{db_}.claim(worker_id_, 1, clock_.now());
  if (!claimed) {
    log::warn("jobs", "could not claim a job", {{"error", context_of(claimed.error())}});
    return false;
  }
  if (claimed->empty()) {
    return false;
  }
  run(claimed->front());
  return true;
}

void job_runner::run(const persistence::claimed_job& claim) {
  const auto& job = claim.job;
  const auto kind = domain::parse_job_kind(job.kind);
  const auto started = std::chrono::steady_clock::now();
  job_outcome outcome{make_error(errc::internal_error, "no handler for job kind " + job.kind)};
  const job_handler* handler = nullptr;
  if (kind) {
    if (auto found = handlers_->find(*kind); found != handlers_->end()) {
      handler = &found->second;
    }
  }
  if (handler != nullptr) {
    try {
      outcome = (*handler)(job_run{job.id, *kind, job.pool_id, job.attempts});
    } catch (const std::exception& e) {
      outcome = make_error(errc::internal_error, std::string{"the handler threw: "} + e.what());
    }
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  const auto now = clock_.now();
  persistence::job_repository jobs{db_};
  std::string result;
  if (outcome) {
    auto completed = jobs.complete(claim, outcome->dump(), now);
    result = !completed ? "failed" : *completed ? "succeeded" : "lost";
    if (!completed) {
      log::error("jobs", "could not record a job's success; it runs again after its timeout",
                 {{"job", job.id}, {"error", context_of(completed.error())}});
    }
  } else {
    // A kind without a handler never gets one by waiting: no retry.
    const auto retry = handler == nullptr
                         ? std::nullopt
                         : domain::retry_at(*kind, job.attempts, job.max_attempts, now);
    auto failed = jobs.fail(claim, describe(outcome.error()), now, retry);
    result = !failed                                             ? "failed"
             : *failed == persistence::failure_recorded::retried ? "retried"
             : *failed == persistence::failure_recorded::lost    ? "lost"
                                                                 : "failed";
    log::warn("jobs", "a job run failed",
              {{"job", job.id},
               {"kind", job.kind},
               {"attempt", job.attempts},
               {"outcome", result},
               {"error", context_of(outcome.error())}});
    if (!failed) {
      log::error("jobs", "could not record a job's failure; it runs again after its timeout",
                 {{"job", job.id}, {"error", context_of(failed.error())}});
    }
  }
  metrics_.runs.add({{"kind", job.kind}, {"outcome", result}}).increment();
  metrics_.duration.add({{"kind", job.kind}}).observe(took.count());
  log::debug("jobs", "job run ended",
             {{"job", job.id}, {"kind", job.kind}, {"outcome", result}, {"seconds", took.count()}});
}

namespace {

struct worker_state {
  std::shared_ptr<job_runner> runner;
  std::chrono::milliseconds idle_poll{0};
  bool draining = false;
  static inline const char* name = "job_worker";
};

using worker_impl = job_worker_actor::extend<caf::reacts_to<tick_atom>>;
using worker_self = caf::stateful_actor<worker_state, worker_impl::base>;

worker_impl::behavior_type worker_behavior(worker_self* self, std::shared_ptr<job_runner> runner,
                                           std::chrono::milliseconds idle_poll) {
  self->state.runner = std::move(runner);
  self->state.idle_poll = idle_poll;
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) {
      if (self->state.draining) {
        return;
      }
      // Through the mailbox even when busy, so a drain is heard between two runs.
      if (self->state.runner->run_next()) {
        self->send(self, tick_atom::value);
      } else {
        self->delayed_send(self, self->state.idle_poll, tick_atom::value);
      }
    },
    [self](drain_atom) {
      self->state.draining = true;
      return true;
    },
  };
}

} // namespace

job_worker_actor spawn_job_worker(caf::actor_system& system, std::shared_ptr<job_runner> runner,
                                  std::chrono::milliseconds idle_poll) {
  return system.spawn<caf::detached>(worker_behavior, std::move(runner), idle_poll);
}

} // namespace cxp::actors
