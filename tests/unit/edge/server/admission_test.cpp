#include "edge/server/admission.hpp"

#include <optional>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "common/errc.hpp"
#include "common/metrics/registry.hpp"

using namespace cxp;
using namespace cxp::edge;
using domain::admission_class;

namespace {

/// One request's view of its admission: nothing yet, a ticket, or an error code.
struct outcome {
  bool answered = false;
  admission_ticket ticket;
  std::optional<cxp::errc> error;
};

std::function<void(caf::expected<admission_ticket>)> record(outcome& into) {
  return [&into](caf::expected<admission_ticket> result) {
    into.answered = true;
    if (result) {
      into.ticket = std::move(*result);
    } else {
      into.error = to_errc(result.error());
    }
  };
}

struct admission_fixture {
  admission_fixture() {
    admission->configure(
      std::make_shared<const domain::instance_settings>(domain::instance_settings::from_stored(
        {{"gateway.bulkheads",
          R"({"proxy_http":{"max_concurrency":1,"queue_limit":1,"queue_timeout_ms":50}})"}})));
  }

  double count(const char* outcome_name) {
    return metrics.admissions.add({{"route_class", "proxy_http"}, {"outcome", outcome_name}})
      .value();
  }

  boost::asio::io_context io;
  metrics::registry registry;
  actors::gateway_metrics metrics{registry};
  std::shared_ptr<admission_control> admission = std::make_shared<admission_control>(metrics);
};

} // namespace

TEST_CASE_METHOD(admission_fixture,
                 "a bulkhead runs up to its limit, queues up to its queue limit, rejects the rest "
                 "and hands a freed place to the first waiter",
                 "[unit][edge][admission]") {
  outcome first, second, third;
  admission->admit(admission_class::proxy_http, io.get_executor(), record(first));
  admission->admit(admission_class::proxy_http, io.get_executor(), record(second));
  admission->admit(admission_class::proxy_http, io.get_executor(), record(third));
  CHECK(first.ticket);
  CHECK_FALSE(second.answered);
  REQUIRE(third.error);
  CHECK(*third.error == cxp::errc::server_is_overloaded);
  CHECK(metrics.admission_running.add({{"route_class", "proxy_http"}}).value() == 1);
  CHECK(metrics.admission_queued.add({{"route_class", "proxy_http"}}).value() == 1);

  // Another class is not affected.
  outcome other;
  admission->admit(admission_class::proxy_stream, io.get_executor(), record(other));
  CHECK(other.ticket);

  first.ticket.reset();
  io.run_for(std::chrono::milliseconds{20});
  CHECK(second.ticket);
  CHECK(metrics.admission_running.add({{"route_class", "proxy_http"}}).value() == 1);
  CHECK(metrics.admission_queued.add({{"route_class", "proxy_http"}}).value() == 0);
  CHECK(count("accepted") == 1);
  CHECK(count("enqueued") == 1);
  CHECK(count("rejected") == 1);

  second.ticket.reset();
  CHECK(metrics.admission_running.add({{"route_class", "proxy_http"}}).value() == 0);
}

TEST_CASE_METHOD(admission_fixture, "a waiter whose queue time runs out is told it is overloaded",
                 "[unit][edge][admission]") {
  outcome running, waiting;
  admission->admit(admission_class::proxy_http, io.get_executor(), record(running));
  admission->admit(admission_class::proxy_http, io.get_executor(), record(waiting));
  io.run_for(std::chrono::milliseconds{200});
  REQUIRE(waiting.error);
  CHECK(*waiting.error == cxp::errc::server_is_overloaded);
  CHECK(count("timeout") == 1);
  // Its place in the queue is gone: the freed place waits for the next request.
  running.ticket.reset();
  outcome next;
  admission->admit(admission_class::proxy_http, io.get_executor(), record(next));
  CHECK(next.ticket);
}
