#include "common/stop_stack.hpp"

#include <catch2/catch.hpp>

using cxp::stop_stack;

TEST_CASE("a stop stack stops its parts last-started first, each once", "[unit][common]") {
  std::vector<std::string> stopped;
  std::vector<std::string> announced;
  {
    stop_stack parts;
    for (const auto* name : {"database", "settings", "server"}) {
      parts.started(name, [&stopped, name] { stopped.emplace_back(name); });
    }
    CHECK(parts.size() == 3);
    parts.stop_all([&announced](const std::string& name) { announced.push_back(name); });
    CHECK(parts.size() == 0);
    parts.stop_all(); // nothing left: stops nothing twice
    parts.started("late", [&stopped] { stopped.emplace_back("late"); });
  } // the destructor unwinds what started after the last stop_all
  CHECK(stopped == std::vector<std::string>{"server", "settings", "database", "late"});
  CHECK(announced == std::vector<std::string>{"server", "settings", "database"});
}
