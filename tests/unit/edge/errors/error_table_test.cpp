#include "edge/errors/error_table.hpp"

#include <catch2/catch.hpp>

using cxp::errc;

TEST_CASE("every error code has a table entry and a wire name", "[unit][edge][errors]") {
  for (auto raw = static_cast<int>(cxp::errc_first); raw <= static_cast<int>(cxp::errc_last);
       ++raw) {
    const auto code = static_cast<errc>(raw);
    CAPTURE(raw);
    CHECK(cxp::to_string(code) != "unknown");
    const auto entry = cxp::edge::lookup_error(code);
    CHECK_FALSE(entry.message.empty());
    CHECK_FALSE(entry.type.empty());
    CHECK(static_cast<unsigned>(entry.status) >= 400);
  }
}

TEST_CASE("errors render as the OpenAI envelope", "[unit][edge][errors]") {
  auto body = cxp::edge::render_error(errc::validation_failed, "name is required", "name");
  CHECK(body["error"]["code"] == "validation_failed");
  CHECK(body["error"]["type"] == "invalid_request_error");
  CHECK(body["error"]["message"] == "name is required");
  CHECK(body["error"]["param"] == "name");
  auto plain = cxp::edge::render_error(errc::not_found);
  CHECK(plain["error"]["param"].is_null());
  CHECK(cxp::edge::lookup_error(errc::rate_limited).status
        == boost::beast::http::status::too_many_requests);
}

TEST_CASE("internal error context never reaches the envelope", "[unit][edge][errors]") {
  auto error = cxp::make_error(errc::internal_error, "password=hunter2 in connection string");
  auto body = cxp::edge::render_error(cxp::to_errc(error));
  CHECK(body.dump().find("hunter2") == std::string::npos);
}
