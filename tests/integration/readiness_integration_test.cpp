#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "common/encoding.hpp"
#include "tests/support/gateway_process.hpp"
#include "tests/support/http_client.hpp"

using namespace cxp;

namespace {

/// A private PostgreSQL server, because this test stops it and others must not notice.
struct private_postgres {
  std::string state =
    (std::filesystem::temp_directory_path() / ("cxp_pg_" + to_hex(random_bytes(6)))).string();
  std::string script = std::string{std::getenv("CXP_SOURCE_DIR")} + "/scripts/test-postgres";

  private_postgres() {
    auto started = test::run_program({script, "start", state, CXP_GATEWAY_BINARY});
    INFO(started.out << started.err);
    REQUIRE(started.exit_code == 0);
  }
  ~private_postgres() { test::run_program({script, "stop", state}); }

  std::string template_url() const {
    std::ifstream in{state + "/url"};
    std::string url;
    std::getline(in, url);
    return url.substr(0, url.rfind('/') + 1) + "cxp_template";
  }
  void pause() { REQUIRE(test::run_program({script, "pause", state}).exit_code == 0); }
  void resume() { REQUIRE(test::run_program({script, "resume", state}).exit_code == 0); }
};

/// Polls /readyz until it answers `status` or `limit` passes; returns how long it took.
std::optional<std::chrono::milliseconds> wait_for_readiness(uint16_t port, int status,
                                                            std::chrono::milliseconds limit) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (test::http_get(port, "/readyz").status == status) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                                   - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{25});
  }
  return std::nullopt;
}

} // namespace

TEST_CASE("readiness turns 503 within 2 s of a database outage and recovers after it",
          "[integration][edge][readiness]") {
  REQUIRE(std::getenv("CXP_SOURCE_DIR") != nullptr);
  private_postgres postgres;
  const auto data = std::filesystem::temp_directory_path() / ("cxp_gw_" + to_hex(random_bytes(6)));
  test::gateway_process gateway{test::gateway_env(postgres.template_url(), data.string())};
  REQUIRE(wait_for_readiness(gateway.port(), 200, std::chrono::seconds{5}));
  CHECK(test::http_get(gateway.port(), "/healthz").status == 200);

  postgres.pause();
  auto down_after = wait_for_readiness(gateway.port(), 503, std::chrono::seconds{2});
  REQUIRE(down_after);
  CHECK(test::http_get(gateway.port(), "/healthz").status == 200);

  postgres.resume();
  CHECK(wait_for_readiness(gateway.port(), 200, std::chrono::seconds{15}));
  std::filesystem::remove_all(data);
}
