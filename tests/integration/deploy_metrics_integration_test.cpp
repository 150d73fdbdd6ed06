// Every metric the shipped alerts and Grafana dashboard name is one a live gateway exports:
// charts/codex-pooler/files/prometheus-rules.yaml and grafana-dashboard.json (the files the Helm
// chart and compose load) are read, their codex_pooler_* names collected, and each is looked up
// in the /metrics of a real gateway (role all, on PostgreSQL, with the fake upstream) after
// traffic: turns, a failover, a token refresh, background jobs.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/pooler_fixture.hpp"

using namespace cxp;

namespace {

std::string read_source(const std::string& relative) {
  const char* root = std::getenv("CXP_SOURCE_DIR");
  REQUIRE(root != nullptr);
  std::ifstream in{std::string{root} + "/" + relative};
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The metric families named in `text`: histogram series (_bucket, _sum, _count) count as their
/// family.
std::set<std::string> metric_names(const std::string& text) {
  static const std::regex name{"codex_pooler_[a-z0-9_]+"};
  static const std::regex histogram_series{"(.*_seconds)_(bucket|sum|count)$"};
  std::set<std::string> names;
  for (std::sregex_iterator it{text.begin(), text.end(), name}, end; it != end; ++it) {
    auto found = it->str();
    std::smatch family;
    if (std::regex_match(found, family, histogram_series)) {
      found = family[1];
    }
    names.insert(found);
  }
  return names;
}

/// The families the exposition declares (`# TYPE <name> <kind>`).
std::set<std::string> exported_families(const std::string& exposition) {
  static const std::regex type_line{"# TYPE (\\S+) "};
  std::set<std::string> names;
  for (std::sregex_iterator it{exposition.begin(), exposition.end(), type_line}, end; it != end;
       ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

/// The value of the unlabelled sample `name` in `exposition` (-1 when absent).
double sample(const std::string& exposition, const std::string& name) {
  const std::regex line{"\n" + name + " ([0-9.e+-]+)"};
  std::smatch found;
  return std::regex_search(exposition, found, line) ? std::stod(found[1]) : -1.0;
}

} // namespace

TEST_CASE("every metric the alerts and the dashboard name is exported by a live gateway",
          "[integration][deploy_metrics]") {
  const auto rules = read_source("charts/codex-pooler/files/prometheus-rules.yaml");
  const auto dashboard = read_source("charts/codex-pooler/files/grafana-dashboard.json");
  const auto alert_names = metric_names(rules);
  const auto dashboard_names = metric_names(dashboard);
  // Sanity: the files were read and name what the alerts are about.
  REQUIRE(alert_names.count("codex_pooler_pool_eligible_accounts") == 1);
  REQUIRE(dashboard_names.count("codex_pooler_gateway_time_to_first_byte_seconds") == 1);

  const auto cluster_port = test::free_loopback_port();
  test::pooler_fixture::options opts;
  opts.accounts = 2;
  opts.script = [](int index, test::account_script& s) {
    if (index == 0) {
      s.status_5xx = 500; // every turn it gets fails over to the other account
    } else {
      s.access_token_expired = true; // its first turn refreshes the token
    }
  };
  opts.gateway_env = {
    {"CODEX_POOLER_JOB_EVERY_MS", "300"},
    {"CODEX_POOLER_JOB_POLL_MS", "50"},
    // A cluster of one, so the peer gauges are the ones a clustered node reports.
    {"CODEX_POOLER_CLUSTER_PORT", std::to_string(cluster_port)},
    {"CODEX_POOLER_CLUSTER_PEERS", "127.0.0.1:" + std::to_string(cluster_port)},
  };
  test::pooler_fixture f{opts};

  int served = 0;
  for (int i = 0; i < 6; ++i) {
    served += f.turn().status == 200 ? 1 : 0;
  }
  CHECK(served > 0);

  // Bounded wait for what the background work publishes: a job's success, the scheduler lease,
  // the pool's capacity gauges and the peer connection.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  std::string exposition;
  std::set<std::string> missing;
  for (;;) {
    exposition = test::http_get(f.gateway().port(), "/metrics").body;
    const auto exported = exported_families(exposition);
    missing.clear();
    for (const auto* names : {&alert_names, &dashboard_names}) {
      for (const auto& name : *names) {
        if (exported.count(name) == 0) {
          missing.insert(name);
        }
      }
    }
    const bool peers_settled = sample(exposition, "codex_pooler_cluster_peers_expected") == 1.0
                               && sample(exposition, "codex_pooler_cluster_peers_connected") == 1.0;
    if ((missing.empty() && peers_settled) || std::chrono::steady_clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  INFO("missing from /metrics: " << [&] {
    std::string list;
    for (const auto& name : missing) {
      list += name + " ";
    }
    return list;
  }());
  CHECK(missing.empty());
  // The alert and dashboard files name more than a handful of families each.
  CHECK(alert_names.size() >= 10);
  CHECK(dashboard_names.size() >= 25);

  // The values behind the alerts are what this gateway is: one leader, a pool with one eligible
  // account (the other answers 500s but is not blocked by a usage limit: both count), and a node
  // that dials only itself connected to it (no CodexPoolerClusterPeersMissing by construction).
  CHECK(sample(exposition, "codex_pooler_scheduler_leader") == 1.0);
  CHECK(sample(exposition, "codex_pooler_cluster_peers_expected") == 1.0);
  CHECK(sample(exposition, "codex_pooler_cluster_peers_connected") == 1.0);
  const std::string pool_label = "{pool=\"" + f.pool_id() + "\"}";
  CHECK(exposition.find("codex_pooler_pool_accounts" + pool_label + " 2") != std::string::npos);
  CHECK(exposition.find("codex_pooler_pool_eligible_accounts" + pool_label + " 2")
        != std::string::npos);
}
