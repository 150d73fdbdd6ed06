#include "common/metrics/text_serializer.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

using namespace cxp::metrics;

namespace {

constexpr const char* promtool_path = "/usr/bin/promtool";

struct promtool_result {
  int exit_code = -1;
  std::string output;
};

// promtool reads the exposition from stdin; a temporary file avoids juggling two pipes.
promtool_result run_promtool_check(const std::string& exposition) {
  std::string path = "/tmp/cxp_metrics_XXXXXX";
  if (const char* dir = std::getenv("TMPDIR"); dir != nullptr && *dir != '\0') {
    path = std::string{dir} + "/cxp_metrics_XXXXXX";
  }
  const int fd = mkstemp(path.data());
  REQUIRE(fd >= 0);
  const auto written = write(fd, exposition.data(), exposition.size());
  close(fd);
  REQUIRE(written == static_cast<ssize_t>(exposition.size()));

  const std::string command = std::string{promtool_path} + " check metrics < '" + path + "' 2>&1";
  promtool_result result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 512> chunk{};
  while (const auto got = std::fread(chunk.data(), 1, chunk.size(), pipe)) {
    result.output.append(chunk.data(), got);
  }
  const int status = pclose(pipe);
  unlink(path.c_str());
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

metric_family single_gauge(std::string help, std::vector<label_pair> label_pairs, double value) {
  return metric_family{"codex_pooler_test_value",
                       std::move(help),
                       metric_type::gauge,
                       {metric_sample{std::move(label_pairs), value, {}}}};
}

} // namespace

TEST_CASE("numbers render as integers when exact and shortest round-trip otherwise",
          "[unit][common][metrics]") {
  CHECK(format_number(0.0) == "0");
  CHECK(format_number(-0.0) == "0");
  CHECK(format_number(42.0) == "42");
  CHECK(format_number(-7.0) == "-7");
  CHECK(format_number(1e6) == "1000000");
  CHECK(format_number(9007199254740991.0) == "9007199254740991");
  CHECK(format_number(0.005) == "0.005");
  CHECK(format_number(0.1 + 0.2) == "0.30000000000000004");
  CHECK(format_number(2.5) == "2.5");
  CHECK(format_number(1.5e300) == "1.5e+300");
  CHECK(format_number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_number(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_number(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

TEST_CASE("label values escape backslash, double quote and newline", "[unit][common][metrics]") {
  const auto text =
    serialize_text({single_gauge("h", {{"path", "C:\\dir \"x\"\nnext"}, {"b", "plain"}}, 1.0)});

  CHECK(text.find(R"(codex_pooler_test_value{path="C:\\dir \"x\"\nnext",b="plain"} 1)")
        != std::string::npos);
}

TEST_CASE("help text escapes backslash and newline but not double quote",
          "[unit][common][metrics]") {
  const auto text = serialize_text({single_gauge("a \\ b\n\"c\"", {}, 1.0)});

  CHECK(text.starts_with("# HELP codex_pooler_test_value a \\\\ b\\n\"c\"\n"));
}

TEST_CASE("invalid UTF-8 in label values is replaced so the scrape still parses",
          "[unit][common][metrics]") {
  const auto text = serialize_text({single_gauge("h", {{"model", "ok\xC3\xA9\xFF\xC3"}}, 1.0)});

  CHECK(text.find("model=\"ok\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\"") != std::string::npos);
}

TEST_CASE("a small registry renders to the exact expected text", "[unit][common][metrics]") {
  registry reg;
  build_counter()
    .name("codex_pooler_edge_requests_total")
    .help("Requests received.")
    .labels({{"node", "n1"}})
    .register_(reg)
    .add({{"status", "200"}})
    .increment(3.0);
  build_gauge()
    .name("codex_pooler_pool_accounts")
    .help("Accounts in the pool.")
    .register_(reg)
    .add({})
    .set(2.5);
  auto& latency = build_histogram()
                    .name("codex_pooler_upstream_seconds")
                    .help("Upstream latency.")
                    .buckets({0.1, 1.0})
                    .register_(reg)
                    .add({{"route", "responses"}});
  latency.observe(0.05);
  latency.observe(0.5);
  latency.observe(4.0);

  CHECK(serialize_text(reg.collect())
        == "# HELP codex_pooler_edge_requests_total Requests received.\n"
           "# TYPE codex_pooler_edge_requests_total counter\n"
           "codex_pooler_edge_requests_total{node=\"n1\",status=\"200\"} 3\n"
           "# HELP codex_pooler_pool_accounts Accounts in the pool.\n"
           "# TYPE codex_pooler_pool_accounts gauge\n"
           "codex_pooler_pool_accounts 2.5\n"
           "# HELP codex_pooler_upstream_seconds Upstream latency.\n"
           "# TYPE codex_pooler_upstream_seconds histogram\n"
           "codex_pooler_upstream_seconds_bucket{route=\"responses\",le=\"0.1\"} 1\n"
           "codex_pooler_upstream_seconds_bucket{route=\"responses\",le=\"1\"} 2\n"
           "codex_pooler_upstream_seconds_bucket{route=\"responses\",le=\"+Inf\"} 3\n"
           "codex_pooler_upstream_seconds_sum{route=\"responses\"} 4.55\n"
           "codex_pooler_upstream_seconds_count{route=\"responses\"} 3\n");
}

TEST_CASE("a histogram snapshot without a +Inf bucket still renders one",
          "[unit][common][metrics]") {
  metric_sample sample;
  sample.histogram = histogram_sample{{{1.0, 2}}, 5, 9.0};
  const auto text = serialize_text(
    {metric_family{"codex_pooler_x_seconds", "x", metric_type::histogram, {sample}}});

  CHECK(text.find("codex_pooler_x_seconds_bucket{le=\"1\"} 2\n"
                  "codex_pooler_x_seconds_bucket{le=\"+Inf\"} 5\n"
                  "codex_pooler_x_seconds_sum 9\n"
                  "codex_pooler_x_seconds_count 5\n")
        != std::string::npos);
}

TEST_CASE("rendered registry passes promtool check metrics without lint warnings",
          "[unit][common][metrics][promtool]") {
  // A missing promtool must fail the test: the exposition would otherwise go unchecked.
  REQUIRE(access(promtool_path, X_OK) == 0);

  registry reg;
  auto& requests = build_counter()
                     .name("codex_pooler_edge_requests_total")
                     .help("Requests received, by route and status.\nSecond \\ line.")
                     .labels({{"node", "gateway-1"}})
                     .register_(reg);
  requests.add({{"route", "/v1/responses"}, {"status", "200"}}).increment(12);
  requests.add({{"route", "C:\\odd \"route\"\nwith newline"}, {"status", "500"}}).increment();
  auto& inflight = build_gauge()
                     .name("codex_pooler_edge_inflight_requests")
                     .help("Requests in flight.")
                     .register_(reg);
  inflight.add({}).set(-3.25);
  inflight.add({{"model", "caf\xC3\xA9 \xFF"}}).set(std::numeric_limits<double>::infinity());
  auto& latency = build_histogram()
                    .name("codex_pooler_upstream_request_duration_seconds")
                    .help("Upstream request latency.")
                    .register_(reg);
  latency.add({{"account", "fp:1234abcd"}}).observe(0.042);
  latency.add({{"account", "fp:1234abcd"}}).observe(7.0);
  latency.add({{"account", "fp:deadbeef"}}, {0.5, 1.0}).observe(30.0);

  const auto text = serialize_text(reg.collect());
  const auto result = run_promtool_check(text);

  INFO("exposition:\n" << text);
  CHECK(result.output.empty());
  CHECK(result.exit_code == 0);
}

TEST_CASE("promtool check reports a badly named counter", "[unit][common][metrics][promtool]") {
  // Proves the harness above can fail: promtool must flag a counter without `_total`.
  REQUIRE(access(promtool_path, X_OK) == 0);
  const auto text = serialize_text(
    {metric_family{"codex_pooler_requests", "Requests.", metric_type::counter, {metric_sample{}}}});

  const auto result = run_promtool_check(text);

  CHECK(result.exit_code != 0);
  CHECK(result.output.find("_total") != std::string::npos);
}
