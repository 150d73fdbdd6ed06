#include "edge/routes/admin_api/admin_body.hpp"

#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/errc.hpp"

using namespace cxp;
using namespace cxp::edge;
using json = nlohmann::json;

namespace {

std::map<std::string, std::string> errors_of(const admin_body& in) {
  auto error = in.error();
  REQUIRE(error);
  CHECK(to_errc(*error) == errc::validation_failed);
  return field_errors_of(*error);
}

} // namespace

TEST_CASE("admin_body reads each type strictly and names every wrong field",
          "[unit][edge][admin][admin_input]") {
  const auto body = json::parse(R"({"label": 5, "name": null, "ttl_hours": "72",
    "pool_ids": ["a", 1], "role": true, "status": "active", "hours": 2.5, "big": 18446744073709551615,
    "note": null})");
  admin_body in{body};
  CHECK_FALSE(in.text("label"));
  CHECK_FALSE(in.text("name"));
  CHECK_FALSE(in.integer("ttl_hours", 1, 720));
  CHECK_FALSE(in.text_list("pool_ids"));
  CHECK_FALSE(in.text("role"));
  CHECK(in.text("status") == "active");
  CHECK_FALSE(in.integer("hours", 1, 720));
  CHECK_FALSE(in.integer("big", 1, 720));
  CHECK_FALSE(in.text("absent"));
  auto note = in.nullable_text("note");
  REQUIRE(note);
  CHECK_FALSE(*note);
  const auto errors = errors_of(in);
  CHECK(errors.at("label") == "must be a string");
  CHECK(errors.at("name") == "must be a string");
  CHECK(errors.at("ttl_hours") == "must be an integer between 1 and 720");
  CHECK(errors.at("pool_ids") == "must be a list of strings");
  CHECK(errors.at("role") == "must be a string");
  CHECK(errors.at("hours") == "must be an integer between 1 and 720");
  CHECK(errors.at("big") == "must be an integer between 1 and 720");
  CHECK(errors.count("status") == 0);
  CHECK(errors.count("absent") == 0);
  CHECK(errors.count("note") == 0);
  CHECK(errors.size() == 7);
}

TEST_CASE("admin_body reads well-typed fields and finds no error",
          "[unit][edge][admin][admin_input]") {
  const auto body =
    json::parse(R"({"email": "a@example.com", "ttl_hours": 720, "pool_ids": [], "label": "x"})");
  admin_body in{body};
  CHECK(in.text("email") == "a@example.com");
  CHECK(in.integer("ttl_hours", 1, 720) == 720);
  CHECK(in.text_list("pool_ids") == std::vector<std::string>{});
  CHECK(in.nullable_text("label") == std::optional<std::string>{"x"});
  in.reject_unknown({"email", "ttl_hours", "pool_ids", "label"});
  in.require("email");
  CHECK_FALSE(in.error());
}

TEST_CASE("admin_body requires, refuses unknown fields and non-object bodies",
          "[unit][edge][admin][admin_input]") {
  const auto body = json::parse(R"({"lable": "typo", "label": 5})");
  admin_body in{body};
  in.reject_unknown({"label"});
  in.require("label");
  in.require("missing");
  CHECK_FALSE(in.nullable_text("label"));
  auto errors = errors_of(in);
  CHECK(errors.at("lable") == "is not a known field");
  CHECK(errors.at("missing") == "is required");
  CHECK(errors.at("label") == "must be a string or null");

  admin_body array{json::array()};
  CHECK(errors_of(array).at("body") == "must be a JSON object");
}
