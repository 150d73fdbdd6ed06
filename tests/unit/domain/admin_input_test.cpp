#include "domain/admin_input.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/encoding.hpp"
#include "tests/support/control_samples.hpp"

using namespace cxp;
using namespace cxp::domain;

namespace {

using cxp::test::control_samples;

} // namespace

TEST_CASE("display_text_problem refuses C0, DEL, C1 and invalid UTF-8",
          "[unit][domain][admin][admin_input]") {
  for (const auto& bad : control_samples) {
    CAPTURE(bad);
    CHECK(has_control_characters(bad));
    CHECK(display_text_problem(bad) == std::string{control_characters_message});
  }
  CHECK(display_text_problem("\xff\xfe") == std::string{"must be valid UTF-8"});
  CHECK(display_text_problem("\xc0\x80") == std::string{"must be valid UTF-8"});
  for (const auto& good : {"Team A", "Équipe été", "日本", "emoji 😀", "a@example.com", ""}) {
    CAPTURE(good);
    CHECK_FALSE(has_control_characters(good));
    CHECK_FALSE(display_text_problem(good));
  }
  CHECK(utf8_code_points("Équipe") == 6U);
  CHECK_FALSE(utf8_code_points("\xed\xa0\x80")); // a surrogate
}

TEST_CASE("clean_display_text trims spaces and refuses control characters",
          "[unit][domain][admin][admin_input]") {
  for (const auto& bad : control_samples) {
    CAPTURE(bad);
    CHECK_FALSE(clean_display_text(bad, 100));
  }
  CHECK(clean_display_text("  Team A  ", 100) == std::string{"Team A"});
  CHECK_FALSE(clean_display_text("   ", 100));
  CHECK_FALSE(clean_display_text(std::string(101, 'x'), 100));
}
