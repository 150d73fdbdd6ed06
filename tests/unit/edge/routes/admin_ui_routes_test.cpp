#include "edge/routes/admin_ui_routes.hpp"

#include <array>

#include <catch2/catch.hpp>

using namespace cxp::edge;

namespace {

constexpr std::array<static_asset, 2> assets{{
  {"/admin/index.html", "text/html; charset=utf-8", "<html>app</html>", "", "\"page\""},
  {"/admin/assets/app-1a2b.js", "text/javascript; charset=utf-8", "console.log(1)", "GZ",
   "\"script\""},
}};

struct reply {
  http_response response;
  bool replied = false;
};

reply get(const route_table& routes, std::string target,
          std::initializer_list<std::pair<http::field, std::string>> headers = {}) {
  reply out;
  http_request request{http::verb::get, target, 11};
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  routes.dispatch(
    std::make_shared<exchange>(std::move(request), "127.0.0.1", [&out](http_response response) {
      out.response = std::move(response);
      out.replied = true;
    }));
  return out;
}

std::string header(const reply& r, std::string_view name) {
  auto found = r.response.find(boost::beast::string_view{name.data(), name.size()});
  return found == r.response.end() ? "" : std::string{found->value()};
}

} // namespace

TEST_CASE("the dashboard's pages answer index.html, never cached, under the CSP",
          "[unit][edge][admin_ui]") {
  route_table routes;
  add_admin_ui_file_routes(routes, assets);
  for (const char* page :
       {"/admin", "/admin/pools", "/admin/upstreams/abc", "/bootstrap", "/invite"}) {
    CAPTURE(page);
    auto r = get(routes, page);
    REQUIRE(r.replied);
    CHECK(r.response.result() == http::status::ok);
    CHECK(r.response.body() == "<html>app</html>");
    CHECK(header(r, "cache-control") == "no-cache");
    CHECK(header(r, "content-security-policy") == admin_ui_content_security_policy);
    CHECK(header(r, "content-security-policy").find("unsafe-inline") == std::string::npos);
    CHECK(header(r, "x-content-type-options") == "nosniff");
  }
}

TEST_CASE("hashed files are cached for a year and sent gzipped when accepted",
          "[unit][edge][admin_ui]") {
  route_table routes;
  add_admin_ui_file_routes(routes, assets);

  auto plain = get(routes, "/admin/assets/app-1a2b.js");
  CHECK(plain.response.body() == "console.log(1)");
  CHECK(header(plain, "content-type") == "text/javascript; charset=utf-8");
  CHECK(header(plain, "cache-control") == "public, max-age=31536000, immutable");
  CHECK(header(plain, "content-encoding").empty());

  auto zipped =
    get(routes, "/admin/assets/app-1a2b.js", {{http::field::accept_encoding, "br, gzip"}});
  CHECK(zipped.response.body() == "GZ");
  CHECK(header(zipped, "content-encoding") == "gzip");
  CHECK(header(zipped, "vary") == "Accept-Encoding");

  auto revalidated =
    get(routes, "/admin/assets/app-1a2b.js", {{http::field::if_none_match, "\"script\""}});
  CHECK(revalidated.response.result() == http::status::not_modified);
  CHECK(revalidated.response.body().empty());
}

TEST_CASE("a missing file and an unknown API path are 404s, not the page",
          "[unit][edge][admin_ui]") {
  route_table routes;
  add_admin_ui_file_routes(routes, assets);
  auto script = get(routes, "/admin/assets/gone-0000.js");
  CHECK(script.response.result() == http::status::not_found);
  CHECK(script.response.body().find("<html>") == std::string::npos);
  auto api = get(routes, "/admin/api/nothing-here");
  CHECK(api.response.result() == http::status::not_found);
  CHECK(nlohmann::json::parse(api.response.body())["error"]["code"] == "not_found");
}

TEST_CASE("a binary built without the dashboard says so", "[unit][edge][admin_ui]") {
  route_table routes;
  add_admin_ui_file_routes(routes, {});
  auto r = get(routes, "/admin/pools");
  CHECK(r.response.result() == http::status::not_found);
  CHECK(r.response.body().find("not part of this build") != std::string::npos);
}
