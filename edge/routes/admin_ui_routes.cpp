#include "edge/routes/admin_ui_routes.hpp"

#include <boost/beast/http/field.hpp>

#include "domain/operators/operator_service.hpp"
#include "edge/server/actor_bridge.hpp"

namespace cxp::edge {

namespace {

constexpr auto bootstrap_check_timeout = std::chrono::milliseconds{2'000};
constexpr std::string_view index_path = "/admin/index.html";
constexpr std::string_view hashed_prefix = "/admin/assets/";
// Vite names every file under assets/ after its content hash, so a year is safe; index.html
// names them and must be revalidated so a new build is picked up at once.
constexpr std::string_view immutable_cache = "public, max-age=31536000, immutable";
constexpr std::string_view revalidate_cache = "no-cache";

class asset_index {
public:
  explicit asset_index(std::span<const static_asset> assets) : assets_(assets) {}

  const static_asset* find(std::string_view path) const {
    for (const auto& asset : assets_) {
      if (asset.path == path) {
        return &asset;
      }
    }
    return nullptr;
  }

private:
  std::span<const static_asset> assets_;
};

/// Beast (Boost 1.74) takes its own string_view.
boost::beast::string_view view(std::string_view text) {
  return {text.data(), text.size()};
}

void set_security_headers(http_response& response) {
  response.set("content-security-policy", view(admin_ui_content_security_policy));
  response.set("x-content-type-options", "nosniff");
  response.set("referrer-policy", "same-origin");
  response.set("x-frame-options", "DENY");
  response.set("cross-origin-opener-policy", "same-origin");
}

bool accepts_gzip(const http_request& request) {
  const auto accepted = request[http::field::accept_encoding];
  return std::string_view{accepted.data(), accepted.size()}.find("gzip") != std::string_view::npos;
}

bool matches_etag(const http_request& request, std::string_view etag) {
  const auto given = request[http::field::if_none_match];
  return std::string_view{given.data(), given.size()}.find(etag) != std::string_view::npos;
}

void respond_asset(const exchange_ptr& ex, const static_asset& asset, bool immutable) {
  const auto& request = ex->request();
  http_response response{http::status::ok, request.version()};
  set_security_headers(response);
  response.set(http::field::cache_control, view(immutable ? immutable_cache : revalidate_cache));
  response.set(http::field::etag, view(asset.etag));
  response.set(http::field::vary, "Accept-Encoding");
  if (matches_etag(request, asset.etag)) {
    response.result(http::status::not_modified);
    return ex->respond(std::move(response));
  }
  response.set(http::field::content_type, view(asset.content_type));
  if (!asset.gzip_body.empty() && accepts_gzip(request)) {
    response.set(http::field::content_encoding, "gzip");
    response.body() = std::string{asset.gzip_body};
  } else {
    response.body() = std::string{asset.body};
  }
  ex->respond(std::move(response));
}

/// The answer when the binary was built without the dashboard (CXP_ADMIN_UI=OFF or no npm).
void respond_not_built(const exchange_ptr& ex) {
  http_response response{http::status::not_found, ex->request().version()};
  set_security_headers(response);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = "The operator dashboard is not part of this build; use the admin API "
                    "(docs/admin-api.md) or the codex-pooler admin CLI.\n";
  ex->respond(std::move(response));
}

void respond_index(const exchange_ptr& ex, const asset_index& index) {
  if (const auto* page = index.find(index_path)) {
    return respond_asset(ex, *page, false);
  }
  respond_not_built(ex);
}

void respond_redirect(const exchange_ptr& ex, std::string_view location) {
  http_response response{http::status::found, ex->request().version()};
  set_security_headers(response);
  response.set(http::field::location, view(location));
  response.set(http::field::cache_control, "no-store");
  ex->respond(std::move(response));
}

} // namespace

void add_admin_ui_routes(route_table& routes, const admin_runtime& runtime,
                         std::span<const static_asset> assets) {
  routes.add(http::verb::get, "/", [&runtime](const exchange_ptr& ex) {
    run_db<std::string>(
      runtime.system, runtime.db_pool, bootstrap_check_timeout,
      [&services = runtime.services](persistence::database&) {
        return domain::operator_service{services}.bootstrap_status();
      },
      [ex](caf::expected<std::string> status) {
        if (!status) {
          return ex->respond_error(status.error());
        }
        respond_redirect(ex, *status == "pending" ? "/bootstrap" : "/admin");
      });
  });
  add_admin_ui_file_routes(routes, assets);
}

void add_admin_ui_file_routes(route_table& routes, std::span<const static_asset> assets) {
  const asset_index index{assets};
  for (const char* page : {"/admin", "/bootstrap", "/invite"}) {
    routes.add(http::verb::get, page,
               [index](const exchange_ptr& ex) { respond_index(ex, index); });
  }

  routes.add(http::verb::get, "/admin/*file", [index](const exchange_ptr& ex) {
    const auto path = ex->path();
    if (path.starts_with("/admin/api/")) {
      return ex->respond_error(errc::not_found);
    }
    if (const auto* asset = index.find(path)) {
      return respond_asset(ex, *asset, path.starts_with(hashed_prefix));
    }
    if (path.starts_with(hashed_prefix)) {
      // A missing script must not be answered with the page: the browser would run HTML as JS.
      return ex->respond_error(errc::not_found);
    }
    respond_index(ex, index);
  });
}

} // namespace cxp::edge
