#include "edge/server/route_table.hpp"

#include <catch2/catch.hpp>

using namespace cxp::edge;

namespace {

struct captured {
  http_response response;
  bool replied = false;
};

exchange_ptr make_exchange(http::verb method, std::string target, captured& out) {
  http_request request{method, target, 11};
  return std::make_shared<exchange>(std::move(request), "127.0.0.1",
                                    [&out](http_response response) {
                                      out.response = std::move(response);
                                      out.replied = true;
                                    });
}

} // namespace

TEST_CASE("routes match literal segments and capture parameters", "[unit][edge][routes]") {
  route_table routes;
  std::string seen_id;
  routes.add(http::verb::get, "/admin/api/pools/:id", [&](const exchange_ptr& ex) {
    seen_id = std::string{ex->param("id")};
    ex->respond_json(http::status::ok, {{"ok", true}});
  });
  captured out;
  auto ex = make_exchange(http::verb::get, "/admin/api/pools/abc?x=1", out);
  routes.dispatch(ex);
  CHECK(out.replied);
  CHECK(seen_id == "abc");
  CHECK(ex->route_name() == "/admin/api/pools/:id");
  CHECK(ex->query("x") == "1");
}

TEST_CASE("unknown paths are 404 and wrong methods 405, as JSON errors", "[unit][edge][routes]") {
  route_table routes;
  routes.add(http::verb::get, "/healthz",
             [](const exchange_ptr& ex) { ex->respond_json(http::status::ok, {}); });
  captured missing;
  routes.dispatch(make_exchange(http::verb::get, "/nope", missing));
  CHECK(missing.response.result() == http::status::not_found);
  CHECK(nlohmann::json::parse(missing.response.body())["error"]["code"] == "not_found");
  captured wrong_method;
  routes.dispatch(make_exchange(http::verb::post, "/healthz", wrong_method));
  CHECK(wrong_method.response.result() == http::status::method_not_allowed);
}

TEST_CASE("an exchange replies at most once", "[unit][edge][routes]") {
  int replies = 0;
  auto ex = std::make_shared<exchange>(http_request{http::verb::get, "/", 11}, "",
                                       [&replies](http_response) { ++replies; });
  ex->respond_json(http::status::ok, {});
  ex->respond_json(http::status::ok, {});
  CHECK(replies == 1);
}

TEST_CASE("a trailing *name takes the rest of the path", "[unit][edge][routes]") {
  route_table routes;
  std::string seen;
  routes.add(http::verb::get, "/admin/api/pools", [](const exchange_ptr& ex) {
    ex->respond_json(http::status::ok, {{"route", "api"}});
  });
  routes.add(http::verb::get, "/admin/*file", [&](const exchange_ptr& ex) {
    seen = std::string{ex->param("file")};
    ex->respond_json(http::status::ok, {{"route", "tail"}});
  });

  captured deep;
  auto ex = make_exchange(http::verb::get, "/admin/assets/index-1.js?v=2", deep);
  routes.dispatch(ex);
  CHECK(seen == "assets/index-1.js");
  CHECK(ex->route_name() == "/admin/*file");

  SECTION("an earlier route with the same path wins") {
    captured api;
    routes.dispatch(make_exchange(http::verb::get, "/admin/api/pools", api));
    CHECK(nlohmann::json::parse(api.response.body())["route"] == "api");
  }
  SECTION("the tail needs at least one segment") {
    captured bare;
    routes.dispatch(make_exchange(http::verb::get, "/admin", bare));
    CHECK(bare.response.result() == http::status::not_found);
  }
  SECTION("another method on a tail path is 405") {
    captured post;
    routes.dispatch(make_exchange(http::verb::post, "/admin/pools", post));
    CHECK(post.response.result() == http::status::method_not_allowed);
  }
}
