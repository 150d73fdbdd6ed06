#include <algorithm>

#include "actors/pool/pool_state.hpp"
#include "domain/routing/pool_capacity.hpp"

namespace cxp::actors::pool_detail {

std::string circuit_key(const std::string& account, const std::string& model, route_class route) {
  return account + "|" + model + "|" + std::string{to_string(route)};
}

namespace {

domain::circuit_settings circuit_settings_of(const domain::instance_settings& settings) {
  return settings.gateway().circuit;
}

} // namespace

domain::circuit_breaker& circuit_of(pool_self* self, const std::string& key) {
  auto it = self->state.circuits.find(key);
  if (it == self->state.circuits.end()) {
    it = self->state.circuits
           .emplace(key, domain::circuit_breaker{circuit_settings_of(*self->state.settings)})
           .first;
  }
  return it->second;
}

namespace {

bool serves_model(const account_snapshot& snapshot, const std::string& model) {
  if (!snapshot.models || snapshot.models->empty()) {
    return true;
  }
  return std::any_of(snapshot.models->begin(), snapshot.models->end(), [&](const auto& entry) {
    auto slug = entry.value("slug", std::string{});
    return std::equal(slug.begin(), slug.end(), model.begin(), model.end(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  });
}

/// The quota evidence of a snapshot, with a usage-limit answer as one more exhausting window.
std::vector<domain::quota_window> evidence_of(const account_snapshot& snapshot, time_point now) {
  auto windows = snapshot.quota;
  if (snapshot.exhausted_until && *snapshot.exhausted_until > now) {
    windows.push_back({"usage_limit", 0, 100.0, snapshot.exhausted_until, now,
                       std::string{domain::main_limit}, ""});
  }
  return windows;
}

} // namespace

lease_reply deny(errc code, std::string message, std::optional<int64_t> resets_at,
                 std::string plan_type, quota_evidence quota) {
  lease_reply reply;
  reply.denial = {code, std::move(message), resets_at, std::move(plan_type), std::move(quota)};
  return reply;
}

quota_evidence quota_evidence_for(pool_self* self, const lease_request& request) {
  auto& st = self->state;
  if (!st.quota_members) {
    std::vector<domain::quota_member> members;
    for (const auto& [id, snapshot] : st.snapshots) {
      members.push_back(quota_member_of(snapshot));
    }
    st.quota_members =
      std::make_shared<const std::vector<domain::quota_member>>(std::move(members));
  }
  quota_evidence evidence{st.quota_members, {}};
  if (request.caps.counts_tokens()) {
    if (auto budget = st.budgets.find(request.api_key_id); budget != st.budgets.end()) {
      evidence.key_windows = budget->second.windows(request.caps, st.clock->now());
    }
  }
  return evidence;
}

lease_reply denial_for(pool_self* self, const domain::selection& selected,
                       const lease_request& request, time_point now) {
  const auto& model = request.model;
  std::optional<time_point> earliest;
  std::string plan_type;
  bool all_unsupported = !selected.excluded.empty();
  for (const auto& excluded : selected.excluded) {
    all_unsupported = all_unsupported && excluded.reason == "model_unsupported";
    if (excluded.reason != "quota_exhausted") {
      continue;
    }
    const auto& snapshot = self->state.snapshots[excluded.account_id];
    auto until = domain::exhausted_until(domain::covering(evidence_of(snapshot, now), model), now);
    if (until && (!earliest || *until < *earliest)) {
      earliest = until;
      plan_type = snapshot.plan_type;
    }
  }
  if (all_unsupported) {
    return deny(errc::invalid_model, "model is not available for this pool");
  }
  if (earliest) {
    return deny(
      errc::usage_limit_reached, "every account of the pool reached its usage limit",
      std::chrono::duration_cast<std::chrono::seconds>(earliest->time_since_epoch()).count(),
      plan_type, quota_evidence_for(self, request));
  }
  return deny(errc::no_eligible_account, "no eligible account");
}

std::vector<domain::routing_candidate> candidates_of(pool_self* self, const lease_request& request,
                                                     time_point now) {
  std::vector<domain::routing_candidate> candidates;
  for (const auto& [id, handle] : self->state.accounts) {
    if (std::find(request.tried.begin(), request.tried.end(), id) != request.tried.end()) {
      continue;
    }
    auto snapshot = self->state.snapshots.find(id);
    if (snapshot == self->state.snapshots.end()) {
      continue;
    }
    domain::routing_candidate candidate;
    candidate.account_id = id;
    candidate.active = snapshot->second.routable();
    candidate.supports_model = serves_model(snapshot->second, request.model);
    candidate.circuit_closed =
      circuit_of(self, circuit_key(id, request.model, request.route)).state(now)
      != domain::circuit_state::open;
    candidate.quota = domain::covering(evidence_of(snapshot->second, now), request.model);
    if (auto it = self->state.last_success.find(id); it != self->state.last_success.end()) {
      candidate.last_success_at = it->second;
    }
    // Demoted here, or on another node (the account's shared evidence).
    candidate.demoted_until = snapshot->second.demoted_until;
    if (auto it = self->state.demoted_until.find(id);
        it != self->state.demoted_until.end()
        && (!candidate.demoted_until || it->second > *candidate.demoted_until)) {
      candidate.demoted_until = it->second;
    }
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

std::string skip_reason(pool_self* self, const domain::exclusion& excluded) {
  if (excluded.reason != "inactive") {
    return excluded.reason;
  }
  auto snapshot = self->state.snapshots.find(excluded.account_id);
  const auto& status =
    snapshot == self->state.snapshots.end() ? std::string{} : snapshot->second.status;
  return status == "paused" || status == "reauth_required" || status == "disabled" ? status
                                                                                   : "inactive";
}

namespace {

bool is_demoted(const std::vector<domain::routing_candidate>& candidates, const std::string& id,
                time_point now) {
  auto it = std::find_if(candidates.begin(), candidates.end(),
                         [&id](const auto& candidate) { return candidate.account_id == id; });
  return it != candidates.end() && it->demoted_until && *it->demoted_until > now;
}

} // namespace

void record_selection(pool_self* self, domain::routing_decision& decision,
                      const domain::selection& selected, size_t excluded_count,
                      const std::vector<domain::routing_candidate>& candidates,
                      const std::string& chosen, time_point now) {
  auto& out = decision.candidates;
  bool passed = false;
  for (const auto& id : selected.ordered) {
    if (id == chosen) {
      out.push_back({id, "chosen", ""});
      passed = true;
      continue;
    }
    out.push_back({id, "skipped",
                   !passed                           ? "circuit_open"
                   : is_demoted(candidates, id, now) ? "demoted"
                                                     : "ranked_lower"});
  }
  for (const auto& id : selected.beyond_ring) {
    out.push_back({id, "skipped", is_demoted(candidates, id, now) ? "demoted" : "outside_ring"});
  }
  for (size_t i = 0; i < excluded_count && i < selected.excluded.size(); ++i) {
    out.push_back(
      {selected.excluded[i].account_id, "skipped", skip_reason(self, selected.excluded[i])});
  }
}

void record_pinned(domain::routing_decision& decision,
                   const std::vector<domain::routing_candidate>& candidates,
                   const std::string& pinned, std::string outcome, std::string reason) {
  decision.candidates.push_back({pinned, std::move(outcome), std::move(reason)});
  for (const auto& candidate : candidates) {
    if (candidate.account_id != pinned) {
      decision.candidates.push_back({candidate.account_id, "skipped", "pinned_elsewhere"});
    }
  }
}

lease_reply with_routing(lease_reply reply, domain::routing_decision routing) {
  if (!reply.grant) {
    reply.denial.routing = std::move(routing);
  }
  return reply;
}

} // namespace cxp::actors::pool_detail
